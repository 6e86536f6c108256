// The capacity profile: idle CLIs beating at the real CLI's interval (`session-alive` every 2 s,
// as @twsxtd/hapi 0.30.7 sends it), no message traffic, levels up to 50,000.
//
// Each CLI is one TCP connection on both sides, so the hub needs one file descriptor per CLI
// (plus a few hundred) in the process that holds it: `ulimit -n` bounds a single-process hub, a
// multi-worker hub holds up to workers × the limit. The generator spreads its CLIs over child
// processes of at most CLIS_PER_GENERATOR each (each with its own fd limit and its own loopback
// source address, so neither fds nor ephemeral ports run out). The idle phase does not try a
// level the hub's fd limits cannot hold, stops at the first level a target or the generator
// cannot reach, and says why; the per-unit costs measured below it are what BENCHMARKS.md
// projects from.
import type { LoadtestOptionsInput } from '../options.js';

/** The real CLI's keep-alive interval (session-alive). */
export const CLI_ALIVE_MS = 2_000;

/**
 * 18 000 is the largest level a single-process hub holds under a 20 000 fd limit (this machine's
 * soft and hard limit); 35 000 fits two workers; 50 000 needs a raised limit.
 */
export const FULL_CAPACITY_LEVELS = [1_000, 5_000, 10_000, 18_000, 35_000, 50_000];
export const QUICK_CAPACITY_LEVELS = [250, 750];

/** Idle CLIs per generator child process: well under a 20 000 fd limit and ~28 000 ports. */
export const CLIS_PER_GENERATOR = 15_000;

export function capacityOptions(
  common: Omit<LoadtestOptionsInput, 'token'>,
  quick: boolean,
  capacityLevels?: number[],
): Omit<LoadtestOptionsInput, 'token'> {
  const levels = capacityLevels ?? (quick ? QUICK_CAPACITY_LEVELS : FULL_CAPACITY_LEVELS);
  const top = Math.max(...levels);
  const connectRate = 500;
  return {
    ...common,
    clis: 0,
    subscribers: 0,
    phases: ['connect', 'idle'],
    idleLevels: levels,
    idleAliveMs: CLI_ALIVE_MS,
    idleSeconds: quick ? 8 : 20,
    idleProcesses: Math.max(1, Math.ceil(top / CLIS_PER_GENERATOR)),
    connectRate,
    connectConcurrency: 128,
    connectTimeoutMs: 30_000,
    // Ramp at connectRate (allowed down to a tenth of it on a busy machine), settle one interval,
    // a window per level; bounded whatever the levels (50 000: at most 25 minutes per target).
    maxSeconds: Math.min(3_600, Math.ceil(top / connectRate) * 10 + levels.length * 60 + 120),
  };
}
