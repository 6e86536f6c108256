// Formatting and lint (Biome, biome.json) are part of the suite: `biome check` over src/, test/,
// tools/ and scripts/ must find nothing — the same command as `npm run lint`.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const biome = join(root, 'node_modules', '.bin', 'biome');

describe('lint', () => {
  it('biome check finds no formatting or lint issue', { timeout: 60_000 }, () => {
    const result = spawnSync(biome, ['check', '--colors=off', '.'], { cwd: root, encoding: 'utf8' });
    expect(result.stdout + result.stderr).not.toMatch(/Found \d+ (error|warning)/);
    expect(result.status).toBe(0);
  });
});
