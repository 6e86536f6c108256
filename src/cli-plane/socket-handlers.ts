// /cli event handlers: parse with the event's schema, call one service function, ack or emit.
import type { Namespace } from 'socket.io';
import type { z } from 'zod';
import { EngineUnavailableError } from '../services/errors.js';
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
import type { AccessFailure } from '../services/access.js';
import type { Services } from '../services/index.js';
import type { VersionedWriteOutcome } from '../services/access.js';
import type { Logger } from '../ops/logger.js';
import type { CliMetrics } from '../ops/metrics.js';
import type { ErrorLogLimiter } from '../ops/error-log-limiter.js';
import { UNSUPPORTED_EVENT_ACKS, type EventAck } from '../protocol/socket-events.js';
import { roomName } from './rooms.js';
import { accessErrorMessage, emitSocketError, joinHandshakeRooms, joinIfPending, type CliSocket } from './handshake.js';

type Ack = (response?: unknown) => void;
type Scope = 'session' | 'machine';

function ackOf(args: unknown[]): Ack | undefined {
  const last = args[args.length - 1];
  return typeof last === 'function' ? (last as Ack) : undefined;
}

/** The client's ack, callable once: whoever answers first (handler or fallback) is the answer. */
interface OnceAck {
  /** Undefined when the client sent no ack callback. */
  readonly ack: Ack | undefined;
  readonly answered: boolean;
}

function onceAck(ack: Ack | undefined): OnceAck {
  if (!ack) return { ack: undefined, answered: false };
  const state = { answered: false, ack: undefined as Ack | undefined };
  state.ack = (response) => {
    if (state.answered) return;
    state.answered = true;
    ack(response);
  };
  return state;
}

/** What a handler needs of the socket whose event it handles. */
interface EventContext {
  socket: CliSocket;
  /** The socket's tenant ('' never happens: sockets without one get no handlers). */
  namespace(): string;
  /** Emits the `error` event; the event's ack (if any) then answers this reason. */
  accessError(scope: Scope, id: string, reason: AccessFailure | 'access-denied'): void;
}

/** What the dispatcher learns from a handler besides its own ack calls. */
interface EventOutcome {
  refused?: AccessFailure | 'access-denied';
}

function versionedAck(outcome: VersionedWriteOutcome, key: string): unknown {
  if (outcome.result === 'error') return { result: 'error', reason: outcome.reason };
  return { result: outcome.result, version: outcome.version, [key]: outcome.value };
}

/** Installs the /cli handlers; returns the event names they handle (`ping` included). */
export function installCliHandlers(cli: Namespace, services: Services, log: Logger, metrics: CliMetrics, errorLog: ErrorLogLimiter): readonly string[] {
  // Per-socket state is kept to the minimum an idle connection needs: the tail of its event queue
  // (below). The handlers, their parsing and the dispatch are shared by every socket of the hub —
  // no closures per socket — and get the socket through an `EventContext` built per event.

  /**
   * One socket's events are handled one at a time, in arrival order, after the handshake's room
   * joins. So an event never races the join, and a `ping` ack means every earlier event was
   * processed — the barrier the CLI's flush() relies on (upstream handlers are synchronous).
   */
  const tails = new WeakMap<CliSocket, Promise<void>>();
  const inOrder = (socket: CliSocket, work: () => Promise<void> | void): void => {
    const tail = tails.get(socket) ?? Promise.resolve();
    tails.set(socket, tail.then(work).catch((error: unknown) => errorLog.error(socket, 'cli-event', { err: error }, 'cli event failed')));
  };

  const contextOf = (socket: CliSocket, outcome: EventOutcome): EventContext => ({
    socket,
    namespace: () => socket.data.namespace ?? '',
    accessError: (scope, id, reason) => {
      outcome.refused = reason;
      emitSocketError(socket, { message: accessErrorMessage(scope, reason), code: reason, scope, id });
    },
  });

  /** Event name → what to do with one occurrence; the same table serves every socket. */
  const handlers = new Map<string, (socket: CliSocket, args: unknown[]) => void>();

  /**
   * Registers one event. Invalid payloads are counted and answered (ack `{result:'error'}` or an
   * `error` event); engine outages answer `unavailable`. Every ack is answered exactly once: a
   * handler that does not answer it itself (events without an upstream ack) gets `{result:'ok'}`,
   * or `{result:'error', reason}` when it refused access.
   */
  const on = <S extends z.ZodType>(event: string, schema: S, handle: (payload: z.infer<S>, ack: Ack | undefined, context: EventContext) => Promise<void>): void => {
    handlers.set(event, (socket, args) => {
      metrics.eventIn(event);
      const answer = onceAck(ackOf(args));
      const parsed = schema.safeParse(args[0]);
      if (!parsed.success) {
        metrics.malformed(event);
        inOrder(socket, () => {
          if (answer.ack) answer.ack({ result: 'error', reason: 'invalid-payload' } satisfies EventAck);
          else emitSocketError(socket, { message: `Invalid ${event} payload`, code: 'invalid-payload', event });
        });
        return;
      }
      const outcome: EventOutcome = {};
      inOrder(socket, () =>
        handle(parsed.data, answer.ack, contextOf(socket, outcome)).then(
          () => answer.ack?.((outcome.refused ? { result: 'error', reason: outcome.refused } : { result: 'ok' }) satisfies EventAck),
          (error: unknown) => {
            const unavailable = error instanceof EngineUnavailableError;
            if (!unavailable) errorLog.error(socket, 'cli-event', { err: error, event }, 'cli event failed');
            if (answer.ack) answer.ack({ result: 'error', reason: unavailable ? 'unavailable' : 'internal' } satisfies EventAck);
            else if (unavailable) emitSocketError(socket, { message: 'Hub storage unavailable', code: 'unavailable', event });
          },
        ),
      );
    });
  };

  on('message', MessageEventSchema, async (payload, _ack, { socket, namespace, accessError }) => {
    const result = await services.messages.appendFromCli(namespace(), payload, { socketId: socket.id, inSessionRoom: socket.rooms.has(roomName('session', namespace(), payload.sid)) });
    if (!result.ok) return accessError('session', payload.sid, result.reason);
    await joinIfPending(socket, services, 'session', payload.sid);
  });

  on('update-metadata', UpdateMetadataEventSchema, async (payload, ack, { socket, namespace }) => {
    const outcome = await services.sessions.updateMetadata(namespace(), payload.sid, payload.expectedVersion, payload.metadata, socket.id);
    if (outcome.result !== 'error') await joinIfPending(socket, services, 'session', payload.sid);
    ack?.(versionedAck(outcome, 'metadata'));
  });

  on('update-state', UpdateStateEventSchema, async (payload, ack, { socket, namespace }) => {
    const outcome = await services.sessions.updateAgentState(namespace(), payload.sid, payload.expectedVersion, payload.agentState, socket.id);
    if (outcome.result !== 'error') await joinIfPending(socket, services, 'session', payload.sid);
    ack?.(versionedAck(outcome, 'agentState'));
  });

  on('session-alive', SessionAliveEventSchema, async (payload, _ack, { socket, namespace, accessError }) => {
    const outcome = await services.sessions.handleAlive(namespace(), payload);
    if (outcome === 'not-found') return accessError('session', payload.sid, outcome);
    if (outcome === 'ignored') return;
    await joinIfPending(socket, services, 'session', payload.sid);
    // Queued prompts are re-sent on every keep-alive until consumed; usually there are none.
    if (outcome.queued > 0) await services.messages.replayQueued(namespace(), payload.sid);
  });

  on('session-end', SessionEndEventSchema, async (payload, _ack, { namespace, accessError }) => {
    const access = await services.sessions.access(namespace(), payload.sid);
    if (!access.ok) return accessError('session', payload.sid, access.reason);
    if (payload.reason !== 'cleared') await services.messages.sweepQueuedOnEnd(namespace(), payload.sid);
    await services.sessions.end(namespace(), payload.sid, payload.reason);
  });

  on('session-ready', SessionReadyEventSchema, async (payload, _ack, { socket, namespace, accessError }) => {
    const access = await services.sessions.access(namespace(), payload.sid);
    if (!access.ok) return accessError('session', payload.sid, access.reason);
    await joinIfPending(socket, services, 'session', payload.sid);
  });

  on('messages-consumed', MessagesConsumedEventSchema, async (payload, _ack, { namespace, accessError }) => {
    const outcome = await services.messages.markConsumed(namespace(), payload.sid, payload.localIds, payload);
    if (outcome === 'not-found') accessError('session', payload.sid, outcome);
  });

  on('machine-alive', MachineAliveEventSchema, async (payload, _ack, { socket, namespace, accessError }) => {
    const outcome = await services.machines.handleAlive(namespace(), payload.machineId, payload.time, payload.health);
    if (outcome === 'not-found') return accessError('machine', payload.machineId, outcome);
    if (outcome === 'ok') await joinIfPending(socket, services, 'machine', payload.machineId);
  });

  on('machine-update-metadata', MachineUpdateMetadataEventSchema, async (payload, ack, { socket, namespace }) => {
    const outcome = await services.machines.updateMetadata(namespace(), payload.machineId, payload.expectedVersion, payload.metadata, socket.id);
    if (outcome.result !== 'error') await joinIfPending(socket, services, 'machine', payload.machineId);
    ack?.(versionedAck(outcome, 'metadata'));
  });

  on('machine-update-state', MachineUpdateStateEventSchema, async (payload, ack, { socket, namespace }) => {
    const outcome = await services.machines.updateRunnerState(namespace(), payload.machineId, payload.expectedVersion, payload.runnerState, socket.id);
    if (outcome.result !== 'error') await joinIfPending(socket, services, 'machine', payload.machineId);
    ack?.(versionedAck(outcome, 'runnerState'));
  });

  on('rpc-register', RpcRegisterEventSchema, async (payload, _ack, { socket, namespace, accessError }) => {
    const registrant = { socketId: socket.id, sessionId: socket.data.sessionId, machineId: socket.data.machineId };
    const outcome = await services.rpc.register(namespace(), registrant, payload.method);
    if (!outcome.ok) accessError(outcome.scope, outcome.id, outcome.reason);
  });

  on('rpc-unregister', RpcRegisterEventSchema, async (payload, _ack, { socket, namespace }) => {
    await services.rpc.unregister(namespace(), socket.id, payload.method);
  });

  handlers.set('ping', (socket, args) => {
    metrics.eventIn('ping');
    const ack = ackOf(args);
    inOrder(socket, () => ack?.());
  });

  // Socket.IO hands an event to its listeners on the next tick, and only while the socket is still
  // connected (a packet that arrives with the disconnect is dropped). The catch-all listener runs
  // synchronously on arrival, so it defers the same way; events therefore reach the handlers in
  // arrival order, exactly as with one listener per event.
  const dispatch = (socket: CliSocket, event: unknown, args: unknown[]): void => {
    if (!socket.connected) return;
    const handler = typeof event === 'string' ? handlers.get(event) : undefined;
    if (handler) {
      handler(socket, args);
      return;
    }
    metrics.unknownEvent();
    const ack = ackOf(args);
    // In order, like every answer, so a later `ping` ack still means "everything before is done".
    if (!ack) return;
    const answer = typeof event === 'string' && Object.hasOwn(UNSUPPORTED_EVENT_ACKS, event) ? UNSUPPORTED_EVENT_ACKS[event] : ({ result: 'error', reason: 'unknown-event' } satisfies EventAck);
    inOrder(socket, () => ack(answer));
  };
  function onAnyEvent(this: CliSocket, event: unknown, ...args: unknown[]): void {
    process.nextTick(dispatch, this, event, args);
  }
  function onDisconnectCounted(): void {
    metrics.disconnected();
  }
  function onDisconnect(this: CliSocket): void {
    metrics.disconnected();
    // Queued too, so a registration still in flight when the socket drops is cleaned up after it.
    const socketId = this.id;
    inOrder(this, () => services.rpc.unregisterAll(socketId).catch((error: unknown) => log.warn({ err: error }, 'rpc cleanup failed')));
  }

  cli.on('connection', (rawSocket) => {
    const socket = rawSocket as CliSocket;
    metrics.connected();
    if (socket.data.namespace === undefined) {
      socket.on('disconnect', onDisconnectCounted);
      void joinHandshakeRooms(socket, services);
      return;
    }
    socket.on('disconnect', onDisconnect);
    tails.set(
      socket,
      joinHandshakeRooms(socket, services).then(
        () => undefined,
        (error: unknown) => log.warn({ err: error }, 'handshake room join failed'),
      ),
    );
    socket.onAny(onAnyEvent);
  });
  return [...handlers.keys()];
}
