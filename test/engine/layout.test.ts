// The engine's file layout is part of its design: every store interface in src/engine/stores/
// has an implementation of the same file name in every engine folder, next to the engine.ts
// that assembles them, and a contract file of the same name. A new engine (or store) that
// breaks the pattern fails here, not in review.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ENGINE_DIR = join(import.meta.dirname, '..', '..', 'src', 'engine');
const CONTRACT_DIR = join(import.meta.dirname, 'contract');
const ENGINE_FOLDERS = ['memory', 'sqlite', 'redis'];

const tsFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((name) => name.endsWith('.ts'))
    .sort();

describe('engine layout', () => {
  const stores = tsFiles(join(ENGINE_DIR, 'stores'));

  it('declares the nine stores of the Engine record', () => {
    expect(stores).toEqual([
      'coordination.ts',
      'documents.ts',
      'event-log.ts',
      'limits.ts',
      'machines.ts',
      'messages.ts',
      'namespaces.ts',
      'presence.ts',
      'rpc-routes.ts',
      'sessions.ts',
    ]);
  });

  it.each(ENGINE_FOLDERS)(
    'implements every store in %s/ under the same file name, assembled by engine.ts',
    (folder) => {
      const files = tsFiles(join(ENGINE_DIR, folder));
      expect(files).toEqual(expect.arrayContaining([...stores, 'engine.ts']));
    },
  );

  it('has a contract file per store', () => {
    expect(tsFiles(CONTRACT_DIR)).toEqual(expect.arrayContaining(stores));
  });
});
