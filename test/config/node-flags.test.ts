// Every way of starting the hub gives it the same V8 flags (src/config/node-flags.ts), and cluster
// workers get each of them unless the operator chose that setting.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  HUB_HEAP_GROWING_PERCENT,
  HUB_MAX_SEMI_SPACE_MB,
  HUB_NODE_FLAGS,
  withHubNodeFlags,
} from '../../src/config/node-flags.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/** The words between `node` and the script it runs. */
function flagsBefore(words: string[], script: string): string[] {
  const node = words.indexOf('node');
  const at = words.indexOf(script);
  expect(node, words.join(' ')).toBeGreaterThanOrEqual(0);
  expect(at, words.join(' ')).toBeGreaterThan(node);
  return words.slice(node + 1, at);
}

describe('hub V8 flags', () => {
  it("caps the semi-space and the old generation's growth", () => {
    expect(HUB_NODE_FLAGS).toEqual([
      `--max-semi-space-size=${HUB_MAX_SEMI_SPACE_MB}`,
      `--heap-growing-percent=${HUB_HEAP_GROWING_PERCENT}`,
    ]);
  });

  it('package.json start, start:prod and hapi-hub run node with them', () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(flagsBefore(scripts.start!.split(' '), 'scripts/start.mjs')).toEqual(HUB_NODE_FLAGS);
    expect(flagsBefore(scripts['hapi-hub']!.split(' '), 'scripts/start.mjs')).toEqual(HUB_NODE_FLAGS);
    expect(flagsBefore(scripts['start:prod']!.split(' '), 'dist/main.js')).toEqual(HUB_NODE_FLAGS);
  });

  it("bin/hapi-hub.mjs's first line passes them to node", () => {
    const shebang = read('bin/hapi-hub.mjs').split('\n')[0]!;
    expect(shebang.startsWith('#!/usr/bin/env -S node ')).toBe(true);
    expect(shebang.split(' ').slice(3)).toEqual(HUB_NODE_FLAGS);
  });

  it("the container image's entrypoint runs node with them", () => {
    const line = read('deploy/Dockerfile')
      .split('\n')
      .find((l) => l.startsWith('ENTRYPOINT '));
    const words = JSON.parse(line!.slice('ENTRYPOINT '.length)) as string[];
    expect(flagsBefore(words, 'dist/main.js')).toEqual(HUB_NODE_FLAGS);
  });

  it('cluster workers inherit the flags, or get them added', () => {
    expect(withHubNodeFlags(['--enable-source-maps'])).toEqual(['--enable-source-maps', ...HUB_NODE_FLAGS]);
    expect(withHubNodeFlags(['--enable-source-maps', ...HUB_NODE_FLAGS])).toEqual([
      '--enable-source-maps',
      ...HUB_NODE_FLAGS,
    ]);
  });

  it("keeps the operator's own choice of each setting, and adds the other", () => {
    const growing = `--heap-growing-percent=${HUB_HEAP_GROWING_PERCENT}`;
    const semiSpace = `--max-semi-space-size=${HUB_MAX_SEMI_SPACE_MB}`;
    expect(withHubNodeFlags(['--max-semi-space-size=64'])).toEqual(['--max-semi-space-size=64', growing]);
    expect(withHubNodeFlags(['--semi-space-size=8'])).toEqual(['--semi-space-size=8', growing]);
    expect(withHubNodeFlags(['--heap_growing_percent=50'])).toEqual(['--heap_growing_percent=50', semiSpace]);
    expect(withHubNodeFlags(['--max-semi-space-size=64', '--heap-growing-percent=0'])).toEqual([
      '--max-semi-space-size=64',
      '--heap-growing-percent=0',
    ]);
  });
});
