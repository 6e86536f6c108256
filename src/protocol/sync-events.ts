// Events delivered to web clients over SSE (upstream SyncEvent union). Every broadcast event
// carries its namespace; the SSE layer filters on it.
import { z } from 'zod';
import { WebMessageSchema } from './models.js';

const base = { namespace: z.string().optional() };

export const SyncEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('session-added'), sessionId: z.string(), data: z.unknown().optional(), ...base }),
  z.object({ type: z.literal('session-updated'), sessionId: z.string(), data: z.unknown().optional(), ...base }),
  z.object({ type: z.literal('session-removed'), sessionId: z.string(), ...base }),
  z.object({ type: z.literal('message-received'), sessionId: z.string(), message: WebMessageSchema, ...base }),
  z.object({
    type: z.literal('messages-invalidated'),
    sessionId: z.string(),
    // 0.30.7: a rewind says where the history was cut, so clients trim their window from there.
    reason: z.literal('rewind').optional(),
    truncateFromLocalId: z.string().min(1).optional(),
    ...base,
  }),
  z.object({
    type: z.literal('session-ended'),
    sessionId: z.string(),
    reason: z.enum(['completed', 'terminated', 'error', 'handoff', 'cleared']).optional(),
    ...base,
  }),
  z.object({ type: z.literal('machine-updated'), machineId: z.string(), data: z.unknown().optional(), ...base }),
  z.object({
    type: z.literal('messages-consumed'),
    sessionId: z.string(),
    localIds: z.array(z.string()),
    invokedAt: z.number(),
    steered: z.literal(true).optional(),
    ...base,
  }),
  z.object({
    type: z.literal('message-cancelled'),
    sessionId: z.string(),
    messageId: z.string(),
    localId: z.string().nullable().optional(),
    ...base,
  }),
  z.object({ type: z.literal('heartbeat'), data: z.object({ timestamp: z.number() }).optional(), ...base }),
  z.object({
    type: z.literal('connection-changed'),
    data: z
      .object({ status: z.string(), subscriptionId: z.string().optional(), resume: z.enum(['ok', 'gap']).optional() })
      .optional(),
    ...base,
  }),
]);
export type SyncEvent = z.infer<typeof SyncEventSchema>;
/** Events that go through the namespace event log (everything but per-connection frames). */
export type BroadcastEvent = Exclude<SyncEvent, { type: 'heartbeat' | 'connection-changed' }>;
