// `npm run bench -- …` options (zod), and the profile parameters for quick and full mode.
import { z } from 'zod';
import type { LoadtestOptionsInput } from '../options.js';
import { parseArgv } from '../options.js';
import { capacityOptions } from './capacity.js';

export const TARGET_NAMES = ['upstream', 'memory', 'sqlite', 'redis', 'redis2'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];
export const PROFILE_NAMES = ['ingest', 'fanout', 'capacity', 'rpc'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

const list = <T extends string>(values: readonly [T, ...T[]]) =>
  z
    .union([z.string(), z.array(z.enum(values))])
    .transform((v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '')
        : v,
    )
    .pipe(z.array(z.enum(values)).min(1));
const flag = z
  .union([z.boolean(), z.string()])
  .transform((v) => (typeof v === 'boolean' ? v : !['false', '0', 'no'].includes(v)))
  .default(false);

export const BenchOptionsSchema = z.object({
  quick: flag,
  targets: list(TARGET_NAMES).default([...TARGET_NAMES]),
  profiles: list(PROFILE_NAMES).default([...PROFILE_NAMES]),
  outDir: z.string().min(1).default('results'),
  /** Rewrites the generated block of BENCHMARKS.md with this run's tables. */
  writeBenchmarks: flag,
  /** Runs our hubs under `node --cpu-prof` and prints where their time went. */
  cpuProf: flag,
  /** Overrides the capacity levels (comma list). */
  capacityLevels: z
    .string()
    .transform((v) => v.split(',').map((s) => Number(s.trim())))
    .pipe(z.array(z.number().int().min(1).max(100_000)).min(1))
    .optional(),
  /** Hard cap for the whole bench. */
  maxMinutes: z.coerce.number().min(1).max(600).optional(),
  quiet: flag,
  /** Rebuild the tables of a saved run (results/bench-<stamp>.json) instead of running. */
  report: z.string().min(1).optional(),
});
export type BenchOptions = z.infer<typeof BenchOptionsSchema>;

export const BENCH_USAGE = `usage: npm run bench -- [options]          upstream 0.30.7 vs ours, same profiles, same run
       npm run bench -- --report results/bench-<stamp>.json [--write-benchmarks]   tables of a saved run

--quick                 short phases and fewer steps (minutes instead of tens of minutes)
--targets a,b           ${TARGET_NAMES.join(',')} (default: all)
--profiles a,b          ${PROFILE_NAMES.join(',')} (default: all)
--out-dir results       where bench-<stamp>.json/.md and the charts go (relative to the repository)
--write-benchmarks      rewrite the generated block of BENCHMARKS.md with this run's tables
--cpu-prof              run our hubs under node --cpu-prof and summarise where their time went
--capacity-levels 1000,3000   idle CLI counts of the capacity profile
--max-minutes N         hard cap for the whole bench
--quiet                 no per-phase progress
--report file.json      rebuild the tables of a saved run instead of running
`;

export function parseBenchArgv(argv: readonly string[]): BenchOptions {
  const raw = parseArgv(argv);
  const known = new Set(Object.keys(BenchOptionsSchema.shape));
  const unknown = Object.keys(raw).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new Error(`unknown bench option(s): ${unknown.join(', ')}`);
  return BenchOptionsSchema.parse(raw);
}

/**
 * Loadtest options of each profile, without url/token/hubPids (set per target). Both modes are
 * bounded: every phase has a duration and every step-up a step cap.
 */
export function profileOptions(
  profile: ProfileName,
  quick: boolean,
  capacityLevels?: number[],
): Omit<LoadtestOptionsInput, 'token'> {
  // A step passes while e2e p99 stays below 100 ms (the bound) and ≥ 98 % of its messages
  // are delivered within 2–3 s of the step's end.
  const common = {
    quiet: true,
    maxP99Ms: 100,
    minDelivery: 0.98,
    drainMs: quick ? 2_000 : 3_000,
    payloadBytes: 256,
    aliveMs: 2_000,
  } as const;
  // A short low-rate warm-up (JIT, connection pools) before the steps that are judged.
  const warmup = { rate: 50, duration: 2 } as const;
  switch (profile) {
    case 'ingest':
      // 10 CLIs, 1 SSE subscriber; the rate rises until p99 or delivery falls behind.
      return {
        ...common,
        ...warmup,
        clis: 10,
        subscribers: 1,
        phases: ['connect', 'steady', 'stepup'],
        stepStart: 100,
        stepFactor: quick ? 1.7 : 1.5,
        stepSeconds: quick ? 3 : 8,
        stepMaxSteps: quick ? 12 : 16,
        maxSeconds: quick ? 120 : 400,
      };
    case 'fanout':
      // 100 CLIs, 5 `all` subscribers: every message is delivered five times.
      return {
        ...common,
        ...warmup,
        clis: 100,
        subscribers: 5,
        phases: ['connect', 'steady', 'stepup'],
        connectRate: 200,
        stepStart: 50,
        stepFactor: quick ? 1.7 : 1.5,
        stepSeconds: quick ? 3 : 8,
        stepMaxSteps: quick ? 12 : 16,
        maxSeconds: quick ? 150 : 400,
      };
    case 'capacity':
      return capacityOptions(common, quick, capacityLevels);
    case 'rpc':
      // REST paths/exists → hub → runner RPC → reply, closed loop.
      return {
        ...common,
        clis: 0,
        subscribers: 0,
        runners: 2,
        phases: ['connect', 'rpc'],
        rpcConcurrency: 8,
        rpcSeconds: quick ? 5 : 20,
        maxSeconds: quick ? 60 : 120,
      };
  }
}
