// Payloads of the /cli Socket.IO events (CLI → hub and hub → CLI). One schema per shape; the
// handlers and the tests import these.
import { z } from 'zod';
import { jsonDocument, messageContentDocument, type DocumentKind } from './json-document.js';
import { CliMessageSchema } from './models.js';

const id = z.string().min(1).max(256);
const version = z.number().int().min(0);
const time = z.number().finite();

export const MessageEventSchema = z.object({
  sid: id,
  message: messageContentDocument().refine((v) => v !== undefined, 'message is required'),
  localId: z.string().min(1).max(256).nullish(),
  createdAt: z.number().finite().optional(),
});
export type MessageEvent = z.infer<typeof MessageEventSchema>;

/** A versioned write must carry its value: a missing one would otherwise wipe the stored value. */
const requiredValue = (kind: DocumentKind) => jsonDocument(kind).refine((v) => v !== undefined, `${kind} is required`);

export const UpdateMetadataEventSchema = z.object({
  sid: id,
  expectedVersion: version,
  metadata: requiredValue('metadata'),
});

export const UpdateStateEventSchema = z.object({
  sid: id,
  expectedVersion: version,
  agentState: jsonDocument('agentState'),
});

const nullableString = z.string().max(256).nullish();

export const SessionAliveEventSchema = z.object({
  sid: id,
  time,
  thinking: z.boolean().optional(),
  mode: z.enum(['local', 'remote']).optional(),
  permissionMode: z.string().max(64).optional(),
  model: nullableString,
  modelReasoningEffort: nullableString,
  effort: nullableString,
  serviceTier: nullableString,
  collaborationMode: z.string().max(64).optional(),
  copilotAgentMode: z.string().max(64).optional(),
});
export type SessionAliveEvent = z.infer<typeof SessionAliveEventSchema>;

export const SessionEndReasonSchema = z.enum(['completed', 'terminated', 'error', 'handoff', 'cleared']);
export type SessionEndReason = z.infer<typeof SessionEndReasonSchema>;

export const SessionEndEventSchema = z.object({
  sid: id,
  time,
  reason: SessionEndReasonSchema.optional(),
});

export const SessionReadyEventSchema = z.object({ sid: id, time });

export const MessagesConsumedEventSchema = z.object({
  sid: id,
  localIds: z
    .array(z.unknown())
    .transform((ids) => ids.filter((v): v is string => typeof v === 'string' && v.length > 0)),
  clearQueuedThinkingGrace: z.boolean().optional(),
  steered: z.boolean().optional(),
});

export const MachineAliveEventSchema = z.object({
  machineId: id,
  time,
  health: jsonDocument('machineHealth').optional(),
});

export const MachineUpdateMetadataEventSchema = z.object({
  machineId: id,
  expectedVersion: version,
  metadata: requiredValue('metadata'),
});

export const MachineUpdateStateEventSchema = z.object({
  machineId: id,
  expectedVersion: version,
  runnerState: jsonDocument('runnerState'),
});

export const RpcRegisterEventSchema = z.object({ method: z.string().min(1).max(512) });

/**
 * Any event over one of the tenant's limits (docs/protocol.md#limits): `rate-limited` (a token
 * bucket; retry after `retryAfterMs`) or `quota-exceeded` (a count or stored size). `limit` names
 * the limit (config/limits.ts).
 */
export const LimitAckSchema = z.object({
  result: z.literal('error'),
  reason: z.enum(['rate-limited', 'quota-exceeded']),
  limit: z.string(),
  retryAfterMs: z.number().int().nonnegative().optional(),
});
export type LimitAck = z.infer<typeof LimitAckSchema>;

/** Ack of every versioned write (update-metadata, update-state, machine-update-*). */
export type VersionedAck<K extends string> =
  | {
      result: 'error';
      reason?: 'namespace-missing' | 'access-denied' | 'not-found' | 'invalid-payload' | 'unavailable' | 'internal';
    }
  | LimitAck
  | ({ result: 'version-mismatch' | 'success'; version: number } & { [key in K]: unknown });

/**
 * Ack of every other event a client emits with an ack callback (upstream defines none for them:
 * the real CLI emits them without one). Access failures also emit the `error` event as before;
 * `unknown-event` answers an event name no handler knows.
 */
export const EventAckSchema = z.union([
  z.object({ result: z.literal('ok') }),
  z.object({
    result: z.literal('error'),
    reason: z.enum([
      'namespace-missing',
      'access-denied',
      'not-found',
      'invalid-payload',
      'unavailable',
      'internal',
      'unknown-event',
    ]),
  }),
  LimitAckSchema,
]);
export type EventAck = z.infer<typeof EventAckSchema>;

/**
 * Upstream events this hub does not implement but whose ack upstream defines: an ack sent with
 * one gets upstream's refusal shape rather than `unknown-event` (steering is out of scope;
 * upstream answers `{ok:false}` to a steer-state change it does not apply).
 */
export const UNSUPPORTED_EVENT_ACKS: Readonly<Record<string, unknown>> = {
  'messages-steer-state': { ok: false },
};

export const SocketErrorCodeSchema = z.enum([
  'namespace-missing',
  'access-denied',
  'not-found',
  'invalid-payload',
  'unavailable',
  'rate-limited',
  'quota-exceeded',
]);
export type SocketErrorCode = z.infer<typeof SocketErrorCodeSchema>;

export const SocketErrorSchema = z.object({
  message: z.string(),
  code: SocketErrorCodeSchema.optional(),
  scope: z.enum(['session', 'machine']).optional(),
  id: z.string().optional(),
  event: z.string().optional(),
  /** With `rate-limited` / `quota-exceeded`: which limit, and when to try again. */
  limit: z.string().optional(),
  retryAfterMs: z.number().int().nonnegative().optional(),
});
export type SocketError = z.infer<typeof SocketErrorSchema>;

// Hub → CLI ---------------------------------------------------------------------------------

export const NewMessageBodySchema = z.object({
  t: z.literal('new-message'),
  sid: z.string(),
  message: CliMessageSchema,
});

const versionedValue = z.object({ version: z.number(), value: z.unknown() });

export const UpdateSessionBodySchema = z.object({
  t: z.literal('update-session'),
  sid: z.string(),
  metadata: versionedValue.nullable(),
  agentState: versionedValue.nullable(),
});

export const UpdateMachineBodySchema = z.object({
  t: z.literal('update-machine'),
  machineId: z.string(),
  metadata: versionedValue.nullable(),
  runnerState: versionedValue.nullable(),
});

export const UpdateEnvelopeSchema = z.object({
  id: z.string(),
  seq: z.number(),
  createdAt: z.number(),
  body: z.discriminatedUnion('t', [NewMessageBodySchema, UpdateSessionBodySchema, UpdateMachineBodySchema]),
});
export type UpdateEnvelope = z.infer<typeof UpdateEnvelopeSchema>;
export type UpdateBody = UpdateEnvelope['body'];

export const RpcRequestSchema = z.object({ method: z.string(), params: z.string() });
export type RpcRequest = z.infer<typeof RpcRequestSchema>;

/** Handshake auth object (socket.handshake.auth). */
export const HandshakeAuthSchema = z.looseObject({
  token: z.string().max(1024).optional(),
  namespace: z.string().min(1).max(128).optional(),
  sessionId: z.string().min(1).max(256).optional(),
  machineId: z.string().min(1).max(256).optional(),
  clientType: z.string().optional(),
});
export type HandshakeAuth = z.infer<typeof HandshakeAuthSchema>;
