// /cli event dispatch: every event of a socket in arrival order, parsed with its schema from the
// handler table (event-table.ts), answered exactly once, failures answered and counted.
import type { Namespace } from 'socket.io';
import type { z } from 'zod';
import type { ErrorLogLimiter } from '../ops/error-log-limiter.js';
import type { Logger } from '../ops/logger.js';
import type { CliMetrics } from '../ops/metrics.js';
import { type EventAck, type LimitAck, UNSUPPORTED_EVENT_ACKS } from '../protocol/socket-events.js';
import type { AccessFailure } from '../services/access.js';
import { EngineUnavailableError } from '../services/errors.js';
import type { Services } from '../services/index.js';
import type { LimitRefusal, LimitVerdict } from '../services/limits.js';
import { pauseReading } from './read-throttle.js';
import { type Ack, CLI_EVENT_HANDLERS, type EventContext } from './event-table.js';
import { accessErrorMessage, type CliSocket, emitSocketError, joinHandshakeRooms } from './handshake.js';

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

/** What the dispatcher learns from a handler besides its own ack calls. */
interface EventOutcome {
  refused?: AccessFailure | 'access-denied';
  limited?: LimitRefusal;
}

function limitAck(refusal: LimitRefusal): LimitAck {
  return {
    result: 'error',
    reason: refusal.reason,
    limit: refusal.limit,
    ...(refusal.retryAfterMs !== undefined ? { retryAfterMs: refusal.retryAfterMs } : {}),
  };
}

/** A refused event: its ack says so, or an `error` event does (never a silent drop). */
function answerLimit(socket: CliSocket, ack: Ack | undefined, refusal: LimitRefusal, event: string): void {
  if (ack) ack(limitAck(refusal));
  else
    emitSocketError(socket, {
      message:
        refusal.reason === 'rate-limited'
          ? `Rate limit exceeded (${refusal.limit})`
          : `Quota exceeded (${refusal.limit})`,
      code: refusal.reason,
      limit: refusal.limit,
      event,
      ...(refusal.retryAfterMs !== undefined ? { retryAfterMs: refusal.retryAfterMs } : {}),
    });
}

/** Installs the /cli handlers; returns the event names they handle (`ping` included). */
export function installCliHandlers(
  cli: Namespace,
  services: Services,
  log: Logger,
  metrics: CliMetrics,
  errorLog: ErrorLogLimiter,
): readonly string[] {
  // Per-socket state is kept to the minimum an idle connection needs: the tail of its event queue
  // (below). The handlers, their parsing and the dispatch are shared by every socket of the hub —
  // no closures per socket — and get the socket through an `EventContext` built per event.

  /**
   * One socket's events are handled one at a time, in arrival order, after the handshake's room
   * joins. So an event never races the join, and a `ping` ack means every earlier event was
   * processed — the barrier the CLI's flush() relies on (upstream handlers are synchronous).
   */
  const tails = new WeakMap<CliSocket, Promise<void>>();
  /** Events queued and not yet handled, per socket (the `pendingEvents` limit). */
  const pending = new WeakMap<CliSocket, number>();
  const settle = (socket: CliSocket): void => {
    const left = (pending.get(socket) ?? 1) - 1;
    if (left > 0) {
      pending.set(socket, left);
      return;
    }
    // Everything queued is handled: an idle socket keeps no queue state between its keep-alives.
    pending.delete(socket);
    tails.delete(socket);
  };
  const inOrder = (socket: CliSocket, work: () => Promise<void> | void): void => {
    pending.set(socket, (pending.get(socket) ?? 0) + 1);
    const tail = tails.get(socket) ?? Promise.resolve();
    tails.set(
      socket,
      tail
        .then(work)
        .catch((error: unknown) => errorLog.error(socket, 'cli-event', { err: error }, 'cli event failed'))
        .finally(() => settle(socket)),
    );
  };

  /**
   * Sockets being cut: told why (an `error` event), every later event refused at once, and
   * disconnected once the events queued before the cut are handled — so every write a client
   * made is answered (ok or refused), none left in doubt.
   */
  const cutting = new WeakMap<CliSocket, LimitRefusal>();
  const cut = (socket: CliSocket, refusal: LimitRefusal, message: string, event: string): void => {
    if (cutting.has(socket)) return;
    cutting.set(socket, refusal);
    emitSocketError(socket, {
      message,
      code: refusal.reason,
      limit: refusal.limit,
      event,
      ...(refusal.retryAfterMs !== undefined ? { retryAfterMs: refusal.retryAfterMs } : {}),
    });
    inOrder(socket, () => {
      socket.disconnect(true);
    });
  };

  /**
   * A socket with more unhandled events than its namespace allows is refused and cut (limit
   * `pendingEvents`): its queue would otherwise grow without bound. False when refused.
   */
  const admitQueued = (socket: CliSocket, namespace: string, ack: Ack | undefined, event: string): boolean => {
    const cutFor = cutting.get(socket);
    if (cutFor) {
      answerLimit(socket, ack, cutFor, event);
      return false;
    }
    if ((pending.get(socket) ?? 0) < services.limits.pendingEventsLimit(namespace)) return true;
    const refusal = services.limits.refuse(namespace, 'rate-limited', 'pendingEvents', 1_000);
    if (ack) answerLimit(socket, ack, refusal, event);
    cut(socket, refusal, 'Disconnected: too many events waiting to be handled', event);
    return false;
  };

  const contextOf = (socket: CliSocket, outcome: EventOutcome): EventContext => ({
    socket,
    services,
    namespace: socket.data.namespace ?? '',
    accessError: (scope, id, reason) => {
      outcome.refused = reason;
      emitSocketError(socket, { message: accessErrorMessage(scope, reason), code: reason, scope, id });
    },
    limitError: (refusal) => {
      outcome.limited = refusal;
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
  const on = <S extends z.ZodType>(
    event: string,
    schema: S,
    handle: (payload: z.infer<S>, ack: Ack | undefined, context: EventContext) => Promise<void>,
  ): void => {
    handlers.set(event, (socket, args) => {
      metrics.eventIn(event);
      const answer = onceAck(ackOf(args));
      const namespace = socket.data.namespace ?? '';
      if (!admitQueued(socket, namespace, answer.ack, event)) return;
      // Limits before parsing: a refused event costs the hub as little as possible. The socket's
      // own buckets answer at once (a refused event is not queued); the namespace's shared bucket
      // may need an engine round trip, awaited in order with the socket's events.
      const verdict = services.limits.admitSocketEvent(socket.id, namespace, () =>
        event === 'message' ? services.limits.messageBytes((args[0] as { message?: unknown } | null)?.message) : 0,
      );
      if (!(verdict instanceof Promise) && !verdict.ok) {
        answerLimit(socket, answer.ack, verdict, event);
        pauseReading(socket, verdict.retryAfterMs);
        return;
      }
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
      const admitted = async (): Promise<boolean> => {
        const settled: LimitVerdict = await verdict;
        if (settled.ok) return true;
        answerLimit(socket, answer.ack, settled, event);
        pauseReading(socket, settled.retryAfterMs);
        return false;
      };
      inOrder(socket, () =>
        admitted()
          .then(async (go) => {
            if (!go) return;
            await handle(parsed.data, answer.ack, contextOf(socket, outcome));
            if (outcome.limited) answerLimit(socket, answer.ack, outcome.limited, event);
          })
          .then(
            () =>
              answer.ack?.(
                (outcome.refused ? { result: 'error', reason: outcome.refused } : { result: 'ok' }) satisfies EventAck,
              ),
            (error: unknown) => {
              const unavailable = error instanceof EngineUnavailableError;
              if (!unavailable) errorLog.error(socket, 'cli-event', { err: error, event }, 'cli event failed');
              if (answer.ack)
                answer.ack({ result: 'error', reason: unavailable ? 'unavailable' : 'internal' } satisfies EventAck);
              else if (unavailable)
                emitSocketError(socket, { message: 'Hub storage unavailable', code: 'unavailable', event });
            },
          ),
      );
    });
  };

  for (const [event, { schema, handle }] of Object.entries(CLI_EVENT_HANDLERS)) on(event, schema, handle);

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
    const answer =
      typeof event === 'string' && Object.hasOwn(UNSUPPORTED_EVENT_ACKS, event)
        ? UNSUPPORTED_EVENT_ACKS[event]
        : ({ result: 'error', reason: 'unknown-event' } satisfies EventAck);
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
    const namespace = this.data.namespace ?? '';
    services.limits
      .closeConnection(namespace, socketId)
      .catch((error: unknown) => log.warn({ err: error }, 'connection lease release failed'));
    inOrder(this, () =>
      services.rpc.unregisterAll(socketId).catch((error: unknown) => log.warn({ err: error }, 'rpc cleanup failed')),
    );
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
