// The capacity profile: idle CLIs beating at the real CLI's interval (`session-alive` every 2 s,
// as @twsxtd/hapi 0.30.7 sends it), no message traffic, levels up to 50,000.
//
// Each CLI is one TCP connection on both sides, so the load generator and the hub each need one
// file descriptor per CLI (plus a few hundred): `ulimit -n` must be above the highest level, for
// the bench and the hubs it starts (they inherit it). The idle phase stops at the first level
// the generator cannot reach (connect errors, fd limit) and reports how far it got; the per-unit
// costs measured below it are what BENCHMARKS.md projects from.
import type { LoadtestOptionsInput } from '../options.js';

/** The real CLI's keep-alive interval (session-alive). */
export const CLI_ALIVE_MS = 2_000;

export const FULL_CAPACITY_LEVELS = [1_000, 5_000, 10_000, 20_000, 35_000, 50_000];
export const QUICK_CAPACITY_LEVELS = [250, 750];

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
    connectRate,
    connectConcurrency: 64,
    connectTimeoutMs: 30_000,
    // Ramp at connectRate, settle one interval, a window per level; bounded whatever the levels.
    maxSeconds: Math.min(3_600, Math.ceil(top / connectRate) * 2 + levels.length * 40 + 120),
  };
}
