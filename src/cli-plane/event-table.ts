// The /cli events this hub handles, as one table: each event's schema and what one occurrence
// does — call one service, then ack or emit `error`. The dispatcher (socket-handlers.ts) parses
// with the schema and owns ordering, the once-only ack and the answers to failures.
import type { z } from 'zod';
import {
  MachineAliveEventSchema,
  MachineUpdateMetadataEventSchema,
  MachineUpdateStateEventSchema,
  MessageEventSchema,
  MessagesConsumedEventSchema,
  RpcRegisterEventSchema,
  SessionAliveEventSchema,
  SessionEndEventSchema,
  SessionReadyEventSchema,
  UpdateMetadataEventSchema,
  UpdateStateEventSchema,
} from '../protocol/socket-events.js';
import type { AccessFailure, VersionedWriteOutcome } from '../services/access.js';
import type { Services } from '../services/index.js';
import type { LimitRefusal } from '../services/limits.js';
import { joinIfPending, type CliSocket } from './handshake.js';
import { roomName } from './rooms.js';

export type Ack = (response?: unknown) => void;
type Scope = 'session' | 'machine';

/** What a handler needs of the socket whose event it handles. */
export interface EventContext {
  socket: CliSocket;
  services: Services;
  /** The socket's tenant. */
  namespace: string;
  /** Emits the `error` event; the event's ack (if any) then answers this reason. */
  accessError(scope: Scope, id: string, reason: AccessFailure | 'access-denied'): void;
  /** The event is over a limit: its ack answers the refusal, or (no ack) an `error` event tells it. */
  limitError(refusal: LimitRefusal): void;
}

export interface EventHandler {
  schema: z.ZodType;
  handle(payload: unknown, ack: Ack | undefined, context: EventContext): Promise<void>;
}

/** Pairs a schema with its handler, typing the payload by the schema. */
function handler<S extends z.ZodType>(
  schema: S,
  handle: (payload: z.infer<S>, ack: Ack | undefined, context: EventContext) => Promise<void>,
): EventHandler {
  return { schema, handle: (payload, ack, context) => handle(payload as z.infer<S>, ack, context) };
}

function versionedAck(outcome: VersionedWriteOutcome, key: string): unknown {
  if (outcome.result === 'error') return { result: 'error', reason: outcome.reason };
  return { result: outcome.result, version: outcome.version, [key]: outcome.value };
}

/** Event name → its handler; `ping` is answered by the dispatcher itself. */
export const CLI_EVENT_HANDLERS: Readonly<Record<string, EventHandler>> = {
  message: handler(
    MessageEventSchema,
    async (payload, _ack, { socket, namespace, accessError, limitError, services }) => {
      const result = await services.messages.appendFromCli(namespace, payload, {
        socketId: socket.id,
        inSessionRoom: socket.rooms.has(roomName('session', namespace, payload.sid)),
      });
      if (!result.ok)
        return 'refusal' in result ? limitError(result.refusal) : accessError('session', payload.sid, result.reason);
      await joinIfPending(socket, services, 'session', payload.sid);
    },
  ),
  'update-metadata': handler(UpdateMetadataEventSchema, async (payload, ack, { socket, namespace, services }) => {
    const outcome = await services.sessions.updateMetadata(
      namespace,
      payload.sid,
      payload.expectedVersion,
      payload.metadata,
      socket.id,
    );
    if (outcome.result !== 'error') await joinIfPending(socket, services, 'session', payload.sid);
    ack?.(versionedAck(outcome, 'metadata'));
  }),
  'update-state': handler(UpdateStateEventSchema, async (payload, ack, { socket, namespace, services }) => {
    const outcome = await services.sessions.updateAgentState(
      namespace,
      payload.sid,
      payload.expectedVersion,
      payload.agentState,
      socket.id,
    );
    if (outcome.result !== 'error') await joinIfPending(socket, services, 'session', payload.sid);
    ack?.(versionedAck(outcome, 'agentState'));
  }),
  'session-alive': handler(
    SessionAliveEventSchema,
    async (payload, _ack, { socket, namespace, accessError, services }) => {
      const outcome = await services.sessions.handleAlive(namespace, payload);
      if (outcome === 'not-found') return accessError('session', payload.sid, outcome);
      if (outcome === 'ignored') return;
      await joinIfPending(socket, services, 'session', payload.sid);
      // Queued prompts are re-sent on every keep-alive until consumed; usually there are none.
      if (outcome.queued > 0) await services.messages.replayQueued(namespace, payload.sid);
    },
  ),
  'session-end': handler(SessionEndEventSchema, async (payload, _ack, { namespace, accessError, services }) => {
    const access = await services.sessions.access(namespace, payload.sid);
    if (!access.ok) return accessError('session', payload.sid, access.reason);
    if (payload.reason !== 'cleared') await services.messages.sweepQueuedOnEnd(namespace, payload.sid);
    await services.sessions.end(namespace, payload.sid, payload.reason);
  }),
  'session-ready': handler(
    SessionReadyEventSchema,
    async (payload, _ack, { socket, namespace, accessError, services }) => {
      const access = await services.sessions.access(namespace, payload.sid);
      if (!access.ok) return accessError('session', payload.sid, access.reason);
      await joinIfPending(socket, services, 'session', payload.sid);
    },
  ),
  'messages-consumed': handler(
    MessagesConsumedEventSchema,
    async (payload, _ack, { namespace, accessError, services }) => {
      const outcome = await services.messages.markConsumed(namespace, payload.sid, payload.localIds, payload);
      if (outcome === 'not-found') accessError('session', payload.sid, outcome);
    },
  ),
  'machine-alive': handler(
    MachineAliveEventSchema,
    async (payload, _ack, { socket, namespace, accessError, services }) => {
      const outcome = await services.machines.handleAlive(namespace, payload.machineId, payload.time, payload.health);
      if (outcome === 'not-found') return accessError('machine', payload.machineId, outcome);
      if (outcome === 'ok') await joinIfPending(socket, services, 'machine', payload.machineId);
    },
  ),
  'machine-update-metadata': handler(
    MachineUpdateMetadataEventSchema,
    async (payload, ack, { socket, namespace, services }) => {
      const outcome = await services.machines.updateMetadata(
        namespace,
        payload.machineId,
        payload.expectedVersion,
        payload.metadata,
        socket.id,
      );
      if (outcome.result !== 'error') await joinIfPending(socket, services, 'machine', payload.machineId);
      ack?.(versionedAck(outcome, 'metadata'));
    },
  ),
  'machine-update-state': handler(
    MachineUpdateStateEventSchema,
    async (payload, ack, { socket, namespace, services }) => {
      const outcome = await services.machines.updateRunnerState(
        namespace,
        payload.machineId,
        payload.expectedVersion,
        payload.runnerState,
        socket.id,
      );
      if (outcome.result !== 'error') await joinIfPending(socket, services, 'machine', payload.machineId);
      ack?.(versionedAck(outcome, 'runnerState'));
    },
  ),
  'rpc-register': handler(
    RpcRegisterEventSchema,
    async (payload, _ack, { socket, namespace, accessError, services }) => {
      const registrant = { socketId: socket.id, sessionId: socket.data.sessionId, machineId: socket.data.machineId };
      const outcome = await services.rpc.register(namespace, registrant, payload.method);
      if (!outcome.ok) accessError(outcome.scope, outcome.id, outcome.reason);
    },
  ),
  'rpc-unregister': handler(RpcRegisterEventSchema, async (payload, _ack, { socket, namespace, services }) => {
    await services.rpc.unregister(namespace, socket.id, payload.method);
  }),
};
