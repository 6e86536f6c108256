// Cluster workers get a capped V8 semi-space unless the primary was started with one.
import { describe, expect, it } from 'vitest';
import { WORKER_MAX_SEMI_SPACE_MB, workerExecArgv } from '../../src/cluster/primary.js';

describe('workerExecArgv', () => {
  it('adds --max-semi-space-size to the inherited flags', () => {
    expect(workerExecArgv(['--enable-source-maps'])).toEqual([
      '--enable-source-maps',
      `--max-semi-space-size=${WORKER_MAX_SEMI_SPACE_MB}`,
    ]);
  });

  it("keeps the operator's own semi-space flag", () => {
    expect(workerExecArgv(['--max-semi-space-size=64'])).toEqual(['--max-semi-space-size=64']);
    expect(workerExecArgv(['--semi-space-size=8'])).toEqual(['--semi-space-size=8']);
  });
});
