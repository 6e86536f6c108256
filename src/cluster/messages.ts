// IPC messages between the cluster primary and its workers (besides @socket.io/sticky's own
// `sticky:*` and prom-client's `prom-client:*` messages, which share the channel).
import { z } from 'zod';

export const WorkerReadyMessageSchema = z.object({ type: z.literal('hapi:ready') });
/** Primary → worker: drain and exit before `deadlineAt` (epoch ms). */
export const DrainMessageSchema = z.object({ type: z.literal('hapi:drain'), deadlineAt: z.number() });

/** Primary → worker: send your metrics registry (for the primary's metrics listener). */
export const MetricsRequestMessageSchema = z.object({ type: z.literal('hapi:metrics-request'), requestId: z.number() });
/** Worker → primary: `registry.getMetricsAsJSON()` of the worker, to be aggregated. */
export const MetricsResponseMessageSchema = z.object({
  type: z.literal('hapi:metrics-response'),
  requestId: z.number(),
  metrics: z.array(z.object({ name: z.string() }).passthrough()),
});

export type MetricsRequestMessage = z.infer<typeof MetricsRequestMessageSchema>;
export type MetricsResponseMessage = z.infer<typeof MetricsResponseMessageSchema>;
export type WorkerReadyMessage = z.infer<typeof WorkerReadyMessageSchema>;
export type DrainMessage = z.infer<typeof DrainMessageSchema>;

/** Upper bound of the time a worker keeps after its drain deadline to close up and exit. */
const MAX_EXIT_MARGIN_MS = 1_000;

/**
 * How long before the host's drain deadline a cluster worker must be done draining, so it can
 * close and exit before the primary kills what is left at the deadline.
 */
export function exitMarginMs(drainTimeoutMs: number): number {
  return Math.min(MAX_EXIT_MARGIN_MS, Math.floor(drainTimeoutMs / 5));
}
