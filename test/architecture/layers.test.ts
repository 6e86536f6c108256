// The import graph of src/ stays layered (scripts/check-layers.mjs): transports → services →
// engine, one direction, no cycles between files or folders. Runs the same script CI and a
// developer run by hand.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = join(import.meta.dirname, '..', '..', 'scripts', 'check-layers.mjs');

describe('layers', () => {
  it('every import in src/ goes in an allowed direction and no files import each other in a loop', () => {
    const result = spawnSync(process.execPath, [script], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^layer check: \d+ files, no cycles, every import in an allowed direction/);
  });
});
