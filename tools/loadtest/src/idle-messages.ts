// The messages between the idle phase (parent) and its generator child processes (idle-child.ts),
// validated on both sides: a child is another process, its messages are input like any other.
import { z } from 'zod';

export const ChildInitSchema = z.object({
  type: z.literal('init'),
  url: z.string(),
  token: z.string(),
  runId: z.string(),
  /** This child's CLIs are tagged `idle<child>-<i>`: no two children share a session. */
  child: z.number().int().min(0),
  localAddress: z.string().nullable(),
  connectTimeoutMs: z.number().int().min(100),
  connectConcurrency: z.number().int().min(1),
  aliveMs: z.number().int().min(100),
  /** The child exits on its own after this long, whatever the parent does. */
  maxSeconds: z.number().min(1),
});
export type ChildInit = z.infer<typeof ChildInitSchema>;

export const ChildCommandSchema = z.discriminatedUnion('type', [
  ChildInitSchema,
  z.object({
    type: z.literal('grow'),
    /** Connected CLIs this child should hold when done. */
    to: z.number().int().min(0),
    /** Connects per second for this child. */
    rate: z.number().min(1),
    /** Ms from now after which the ramp gives up. */
    withinMs: z.number().int().min(1),
  }),
  z.object({ type: z.literal('stop') }),
]);
export type ChildCommand = z.infer<typeof ChildCommandSchema>;

/** What a child sends about twice a second and after each ramp: deltas since its last report. */
export const ChildReportSchema = z.object({
  type: z.enum(['report', 'grown']),
  heartbeats: z.number().int().min(0),
  connectMs: z.array(z.number()),
  sessionCreateMs: z.array(z.number()),
  errors: z.record(z.string(), z.number().int().min(0)),
  /** Open sockets now (not a delta). */
  live: z.number().int().min(0),
  /** This process's user+system CPU since it started, ms (not a delta). */
  cpuMs: z.number().min(0),
  /** Its open file descriptors and their limit, when /proc says. */
  fds: z.number().int().min(0).nullable(),
  fdLimit: z.number().int().min(0).nullable(),
});
export type ChildReport = z.infer<typeof ChildReportSchema>;
