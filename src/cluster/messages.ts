// IPC messages between the cluster primary and its workers (besides prom-client's
// `prom-client:*` messages, which share the channel).
import { z } from 'zod';

/** Set by the primary on every worker it forks: the worker's slot (0 … HAPI_WORKERS-1). */
export const WORKER_SLOT_ENV = 'HAPI_WORKER_SLOT';

/**
 * Primary → worker, with a connection's handle: serve this connection. `head` is what the primary
 * read to choose the worker (at least the first request line); the worker's HTTP parser gets it
 * before anything else read from the connection.
 */
export const ConnectionMessageSchema = z.object({
  type: z.literal('hapi:connection'),
  head: z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'head must be bytes'),
  kind: z.enum(['engine', 'http']),
});
/**
 * The primary balances two kinds of connection separately: `engine` (Socket.IO: WebSocket, or a
 * long-polling request — what makes up a worker's long-lived load) and `http` (REST, SSE).
 */
export type ConnectionKind = z.infer<typeof ConnectionMessageSchema>['kind'];
/** Worker → primary: this many handed-over connections of each kind have closed. */
export const ConnectionsClosedMessageSchema = z.object({
  type: z.literal('hapi:connections-closed'),
  engine: z.number().int().min(0),
  http: z.number().int().min(0),
});

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

export type ConnectionMessage = z.infer<typeof ConnectionMessageSchema>;
export type ConnectionsClosedMessage = z.infer<typeof ConnectionsClosedMessageSchema>;
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
