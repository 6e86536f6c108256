// /cli event handlers: parse with the event's schema, call one service function, ack or emit.
import type { Namespace } from 'socket.io';
import type { z } from 'zod';
import { EngineUnavailableError } from '../engine/types.js';
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
import type { VersionedWriteOutcome } from '../services/sessions.js';
import type { Logger } from '../ops/logger.js';
import type { CliMetrics } from '../ops/metrics.js';
import { accessErrorMessage, emitSocketError, joinHandshakeRooms, joinIfPending, type CliSocket } from './handshake.js';

type Ack = (response?: unknown) => void;
type Scope = 'session' | 'machine';

function ackOf(args: unknown[]): Ack | undefined {
  const last = args[args.length - 1];
  return typeof last === 'function' ? (last as Ack) : undefined;
}

function versionedAck(outcome: VersionedWriteOutcome, key: string): unknown {
  if (outcome.result === 'error') return { result: 'error', reason: outcome.reason };
  return { result: outcome.result, version: outcome.version, [key]: outcome.value };
}

export function installCliHandlers(cli: Namespace, services: Services, log: Logger, metrics: CliMetrics): void {
  cli.on('connection', (rawSocket) => {
    const socket = rawSocket as CliSocket;
    metrics.connected();
    socket.on('disconnect', () => metrics.disconnected());

    const namespace = (): string => socket.data.namespace ?? '';

    const accessError = (scope: Scope, id: string, reason: AccessFailure): void => {
      emitSocketError(socket, { message: accessErrorMessage(scope, reason), code: reason, scope, id });
    };

    if (socket.data.namespace === undefined) {
      void joinHandshakeRooms(socket, services);
      return;
    }

    // One socket's events are handled one at a time, in arrival order, after the handshake's
    // room joins. So an event never races the join, and a `ping` ack means every earlier event
    // was processed — the barrier the CLI's flush() relies on (upstream handlers are synchronous).
    let queue: Promise<void> = joinHandshakeRooms(socket, services).then(
      () => undefined,
      (error: unknown) => log.warn({ err: error }, 'handshake room join failed'),
    );
    const inOrder = (work: () => Promise<void> | void): void => {
      queue = queue.then(work).catch((error: unknown) => log.error({ err: error }, 'cli event failed'));
    };
    // Queued too, so a registration still in flight when the socket drops is cleaned up after it.
    socket.on('disconnect', () =>
      inOrder(() => services.rpc.unregisterAll(socket.id).catch((error: unknown) => log.warn({ err: error }, 'rpc cleanup failed'))),
    );

    /**
     * Registers one event. Invalid payloads are counted and answered (ack `{result:'error'}` or an
     * `error` event); engine outages answer `unavailable`; every ack is always sent.
     */
    const on = <S extends z.ZodType>(event: string, schema: S, handle: (payload: z.infer<S>, ack: Ack | undefined) => Promise<void>): void => {
      socket.on(event, (...args: unknown[]) => {
        metrics.eventIn(event);
        const ack = ackOf(args);
        const parsed = schema.safeParse(args[0]);
        if (!parsed.success) {
          metrics.malformed(event);
          inOrder(() => {
            if (ack) ack({ result: 'error', reason: 'invalid-payload' });
            else emitSocketError(socket, { message: `Invalid ${event} payload`, code: 'invalid-payload', event });
          });
          return;
        }
        inOrder(() =>
          handle(parsed.data, ack).catch((error: unknown) => {
            const unavailable = error instanceof EngineUnavailableError;
            if (!unavailable) log.error({ err: error, event }, 'cli event failed');
            if (ack) ack({ result: 'error', reason: unavailable ? 'unavailable' : 'internal' });
            else if (unavailable) emitSocketError(socket, { message: 'Hub storage unavailable', code: 'unavailable', event });
          }),
        );
      });
    };

    on('message', MessageEventSchema, async (payload) => {
      const result = await services.messages.appendFromCli(namespace(), payload, { socketId: socket.id, inSessionRoom: socket.rooms.has(`session:${payload.sid}`) });
      if (!result.ok) return accessError('session', payload.sid, result.reason);
      await joinIfPending(socket, services, 'session', payload.sid);
    });

    on('update-metadata', UpdateMetadataEventSchema, async (payload, ack) => {
      const outcome = await services.sessions.updateMetadata(namespace(), payload.sid, payload.expectedVersion, payload.metadata, socket.id);
      if (outcome.result !== 'error') await joinIfPending(socket, services, 'session', payload.sid);
      ack?.(versionedAck(outcome, 'metadata'));
    });

    on('update-state', UpdateStateEventSchema, async (payload, ack) => {
      const outcome = await services.sessions.updateAgentState(namespace(), payload.sid, payload.expectedVersion, payload.agentState, socket.id);
      if (outcome.result !== 'error') await joinIfPending(socket, services, 'session', payload.sid);
      ack?.(versionedAck(outcome, 'agentState'));
    });

    on('session-alive', SessionAliveEventSchema, async (payload) => {
      const outcome = await services.sessions.handleAlive(namespace(), payload);
      if (outcome === 'access-denied' || outcome === 'not-found') return accessError('session', payload.sid, outcome);
      if (outcome === 'ignored') return;
      await joinIfPending(socket, services, 'session', payload.sid);
      // Queued prompts are re-sent on every keep-alive until consumed; usually there are none.
      if (outcome.queued > 0) await services.messages.replayQueued(namespace(), payload.sid);
    });

    on('session-end', SessionEndEventSchema, async (payload) => {
      const access = await services.sessions.access(namespace(), payload.sid);
      if (!access.ok) return accessError('session', payload.sid, access.reason);
      if (payload.reason !== 'cleared') await services.messages.sweepQueuedOnEnd(namespace(), payload.sid);
      await services.sessions.end(namespace(), payload.sid, payload.reason);
    });

    on('session-ready', SessionReadyEventSchema, async (payload) => {
      const access = await services.sessions.access(namespace(), payload.sid);
      if (!access.ok) return accessError('session', payload.sid, access.reason);
      await joinIfPending(socket, services, 'session', payload.sid);
    });

    on('messages-consumed', MessagesConsumedEventSchema, async (payload) => {
      const outcome = await services.messages.markConsumed(namespace(), payload.sid, payload.localIds, payload);
      if (outcome === 'access-denied' || outcome === 'not-found') accessError('session', payload.sid, outcome);
    });

    on('machine-alive', MachineAliveEventSchema, async (payload) => {
      const outcome = await services.machines.handleAlive(namespace(), payload.machineId, payload.time, payload.health);
      if (outcome === 'access-denied' || outcome === 'not-found') return accessError('machine', payload.machineId, outcome);
      if (outcome === 'ok') await joinIfPending(socket, services, 'machine', payload.machineId);
    });

    on('machine-update-metadata', MachineUpdateMetadataEventSchema, async (payload, ack) => {
      const outcome = await services.machines.updateMetadata(namespace(), payload.machineId, payload.expectedVersion, payload.metadata, socket.id);
      if (outcome.result !== 'error') await joinIfPending(socket, services, 'machine', payload.machineId);
      ack?.(versionedAck(outcome, 'metadata'));
    });

    on('machine-update-state', MachineUpdateStateEventSchema, async (payload, ack) => {
      const outcome = await services.machines.updateRunnerState(namespace(), payload.machineId, payload.expectedVersion, payload.runnerState, socket.id);
      if (outcome.result !== 'error') await joinIfPending(socket, services, 'machine', payload.machineId);
      ack?.(versionedAck(outcome, 'runnerState'));
    });

    on('rpc-register', RpcRegisterEventSchema, async (payload) => {
      const outcome = await services.rpc.register(namespace(), socket.id, payload.method);
      if (!outcome.ok) accessError(outcome.scope, outcome.id, outcome.reason);
    });

    on('rpc-unregister', RpcRegisterEventSchema, async (payload) => {
      await services.rpc.unregister(socket.id, payload.method);
    });

    socket.on('ping', (...args: unknown[]) => {
      metrics.eventIn('ping');
      const ack = ackOf(args);
      inOrder(() => ack?.());
    });
  });
}
