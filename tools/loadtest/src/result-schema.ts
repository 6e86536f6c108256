// The JSON a load-test run produces (`--json`, `--out`) — one schema, used by the writer, by the
// bench that consumes runs, and by the tests that check the output parses.
import { z } from 'zod';
import { PHASE_KINDS } from './options.js';

export const RESULT_SCHEMA_ID = 'hapi-loadtest/1';

export const LatencySummarySchema = z.object({
  count: z.number().int().min(0),
  p50: z.number().min(0),
  p95: z.number().min(0),
  p99: z.number().min(0),
  max: z.number().min(0),
  mean: z.number().min(0),
});

const RateLatencySchema = LatencySummarySchema.extend({ perS: z.number().min(0) });

export const HubUsageSchema = z.object({
  cpuMs: z.number().min(0),
  /** Of one core (200% = both cores of a 2-core machine). */
  cpuPercent: z.number().min(0),
  rssBytes: z.number().min(0),
  rssStartBytes: z.number().min(0),
  byPid: z.array(
    z.object({
      pid: z.number().int(),
      name: z.string(),
      cpuMs: z.number(),
      rssBytes: z.number(),
      processes: z.number().int(),
    }),
  ),
});

export const IdleLevelSchema = z.object({
  level: z.number().int().min(1),
  connected: z.number().int().min(0),
  reached: z.boolean(),
  windowS: z.number().min(0),
  heartbeats: z.number().int().min(0),
  heartbeatsPerS: z.number().min(0),
  hubCpuMs: z.number().min(0).nullable(),
  hubCpuPercent: z.number().min(0).nullable(),
  cpuMsPerHeartbeat: z.number().min(0).nullable(),
  hubRssBytes: z.number().min(0).nullable(),
  hubRssBaselineBytes: z.number().min(0).nullable(),
  /** (RSS now − RSS before the first idle CLI) ÷ idle CLIs. */
  rssBytesPerConnection: z.number().nullable(),
  /** (RSS now − RSS at the previous level) ÷ CLIs added: less sensitive to start-up garbage. */
  rssSlopeBytesPerConnection: z.number().nullable(),
  /** Hub CPU with no idle CLI yet (background timers), measured before the first level. */
  hubBaselineCpuPercent: z.number().min(0).nullable(),
  /** CLIs connected in this level's ramp ÷ the ramp's wall time. */
  connectPerS: z.number().min(0).nullable().default(null),
  connectP99Ms: z.number().min(0).nullable().default(null),
  /** Beats/s the connected CLIs should send at their interval (the generator fell short if far below). */
  expectedHeartbeatsPerS: z.number().min(0).nullable().default(null),
  /** Redis `used_memory` at the end of the window, and (it − before the first level) ÷ CLIs. */
  redisUsedBytes: z.number().min(0).nullable().default(null),
  redisBytesPerSession: z.number().nullable().default(null),
  /** Each load-generator process over the level (ramp + settle + window), CPU % of one core. */
  generator: z
    .array(
      z.object({
        pid: z.number().int(),
        role: z.enum(['main', 'child']),
        clis: z.number().int().min(0),
        cpuPercent: z.number().min(0),
        fds: z.number().int().nullable(),
        fdLimit: z.number().int().nullable(),
      }),
    )
    .default([]),
  /** Hub processes' open fds and their limit at the end of the level. */
  hubFds: z.array(z.object({ pid: z.number().int(), open: z.number().int(), limit: z.number() })).default([]),
  /** Why the run stopped at this level (null when it was reached). */
  stopReason: z.string().nullable().default(null),
});
export type IdleLevel = z.infer<typeof IdleLevelSchema>;

export const VerdictSchema = z.enum(['ok', 'p99', 'delivery', 'generator', 'errors']);
export type Verdict = z.infer<typeof VerdictSchema>;

export const PhaseResultSchema = z.object({
  name: z.string(),
  kind: z.enum(PHASE_KINDS),
  startS: z.number().min(0),
  durationS: z.number().min(0),
  targetRate: z.number().nullable(),
  sent: z.number().int().min(0),
  sentPerS: z.number().min(0),
  accepted: z.number().int().min(0),
  acceptedPerS: z.number().min(0),
  expectedDeliveries: z.number().int().min(0),
  deliveries: z.number().int().min(0),
  deliveriesPerS: z.number().min(0),
  /** deliveries ÷ expected (1 when nothing was expected). */
  deliveryRatio: z.number().min(0),
  latency: LatencySummarySchema,
  heartbeats: z.number().int().min(0),
  connect: RateLatencySchema,
  sessionCreate: LatencySummarySchema,
  rpc: RateLatencySchema,
  rest: RateLatencySchema,
  errors: z.record(z.string(), z.number().int().min(0)),
  hub: HubUsageSchema.nullable(),
  loadtestCpuPercent: z.number().min(0),
  verdict: VerdictSchema.nullable(),
  idle: IdleLevelSchema.nullable(),
});
export type PhaseResult = z.infer<typeof PhaseResultSchema>;

export const TimelinePointSchema = z.object({
  t: z.number().min(0),
  phase: z.string(),
  sentPerS: z.number().min(0),
  acceptedPerS: z.number().min(0),
  deliveriesPerS: z.number().min(0),
  heartbeatsPerS: z.number().min(0),
  connectsPerS: z.number().min(0),
  rpcPerS: z.number().min(0),
  restPerS: z.number().min(0),
  errors: z.number().int().min(0),
  p50: z.number().min(0),
  p99: z.number().min(0),
  max: z.number().min(0),
  openSockets: z.number().int(),
  openStreams: z.number().int(),
  hubCpuPercent: z.number().min(0).nullable(),
  hubRssBytes: z.number().min(0).nullable(),
  loadtestCpuPercent: z.number().min(0),
  loopDelayP99Ms: z.number().min(0),
});
export type TimelinePoint = z.infer<typeof TimelinePointSchema>;

export const LoadtestResultSchema = z.object({
  schema: z.literal(RESULT_SCHEMA_ID),
  runId: z.string(),
  url: z.string(),
  startedAt: z.string(),
  durationS: z.number().min(0),
  /** Why the run ended early, if it did (deadline, a failed setup step). */
  aborted: z.string().nullable(),
  config: z.object({
    clis: z.number().int(),
    runners: z.number().int(),
    subscribers: z.number().int(),
    sessionStreams: z.number().int(),
    transport: z.string(),
    aliveMs: z.number(),
    payloadBytes: z.number().int(),
    phases: z.array(z.enum(PHASE_KINDS)),
    hubPids: z.array(z.number().int()),
  }),
  phases: z.array(PhaseResultSchema),
  timeline: z.array(TimelinePointSchema),
  summary: z.object({
    messagesSent: z.number().int().min(0),
    deliveries: z.number().int().min(0),
    expectedDeliveries: z.number().int().min(0),
    errors: z.record(z.string(), z.number().int().min(0)),
    errorCount: z.number().int().min(0),
    /** Highest step-up step that kept p99 and delivery within bounds. */
    maxSustained: z
      .object({
        step: z.string(),
        targetRate: z.number(),
        acceptedPerS: z.number(),
        deliveriesPerS: z.number(),
        p99: z.number(),
        hubCpuPercent: z.number().nullable(),
      })
      .nullable(),
    /** Why step-up stopped (verdict of the first failing step, or `limit`). */
    stepupStop: z.string().nullable(),
    rpc: z.object({ perS: z.number(), p50: z.number(), p99: z.number(), count: z.number().int() }).nullable(),
    idle: z.array(IdleLevelSchema),
    loadtestCpuMs: z.number().min(0),
    loadtestCpuPercent: z.number().min(0),
  }),
});
export type LoadtestResult = z.infer<typeof LoadtestResultSchema>;
