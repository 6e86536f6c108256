// IPC messages between the cluster primary and its workers (besides @socket.io/sticky's own
// `sticky:*` and prom-client's `prom-client:*` messages, which share the channel).
import { z } from 'zod';

export const WorkerReadyMessageSchema = z.object({ type: z.literal('hapi:ready') });
/** Primary → worker: drain and exit before `deadlineAt` (epoch ms). */
export const DrainMessageSchema = z.object({ type: z.literal('hapi:drain'), deadlineAt: z.number() });
/** Worker → primary: aggregate /metrics over every worker of this host. */
export const MetricsRequestMessageSchema = z.object({ type: z.literal('hapi:metrics-request'), requestId: z.number() });
export const MetricsResponseMessageSchema = z.object({
  type: z.literal('hapi:metrics-response'),
  requestId: z.number(),
  text: z.string().optional(),
  error: z.string().optional(),
});

export type WorkerReadyMessage = z.infer<typeof WorkerReadyMessageSchema>;
export type DrainMessage = z.infer<typeof DrainMessageSchema>;
export type MetricsRequestMessage = z.infer<typeof MetricsRequestMessageSchema>;
export type MetricsResponseMessage = z.infer<typeof MetricsResponseMessageSchema>;
