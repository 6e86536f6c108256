// /cli handshake: token (upstream grammar, per-namespace tokens), the seed's token-less
// namespace mode, and the automatic room joins.
import type { Namespace, Socket } from 'socket.io';
import { EngineUnavailableError } from '../services/errors.js';
import { HandshakeAuthSchema, type HandshakeAuth, type SocketError } from '../protocol/socket-events.js';
import type { Services } from '../services/index.js';
import { roomName } from './rooms.js';

export interface CliSocketData {
  namespace?: string;
  /** The session / machine the handshake named: the only ids this socket may register RPCs for. */
  sessionId?: string;
  machineId?: string;
  /** Ids named in the handshake whose object did not exist yet; joined on first successful use. */
  pendingSessionId?: string;
  pendingMachineId?: string;
  /** Session rooms this socket joined and counted as attached; uncounted when it leaves them. */
  countedSessions?: string[];
}

export type CliSocket = Socket<
  Record<string, (...args: unknown[]) => void>,
  Record<string, (...args: unknown[]) => void>,
  Record<string, never>,
  CliSocketData
>;

function connectError(message: string, data?: Record<string, unknown>): Error {
  const error = new Error(message) as Error & { data?: unknown };
  if (data) error.data = data;
  return error;
}

export function installHandshake(cli: Namespace, services: Services, namespaceAuth: 'token' | 'trust'): void {
  cli.use((socket, next) => {
    const parsed = HandshakeAuthSchema.safeParse(socket.handshake.auth ?? {});
    if (!parsed.success) {
      // A token that is not a (reasonable) string is just an invalid token, in upstream's words.
      const badToken = parsed.error.issues.some((issue) => issue.path[0] === 'token');
      next(
        badToken
          ? connectError('Invalid token')
          : connectError('Invalid handshake', { code: 'invalid-payload', issues: parsed.error.issues }),
      );
      return;
    }
    const auth = parsed.data;
    const data = socket.data as CliSocketData;
    const decide = async (): Promise<Error | undefined> => {
      if (auth.token !== undefined) {
        const check = await services.auth.verifyAccessToken(auth.token);
        if (!check.ok) return connectError('Invalid token');
        if (auth.namespace !== undefined && auth.namespace !== check.namespace) {
          return connectError('Namespace does not match token', { code: 'access-denied' });
        }
        data.namespace = check.namespace;
        rememberScope(data, auth);
      } else if (auth.namespace !== undefined) {
        if (namespaceAuth !== 'trust') return connectError('Invalid token');
        const status = await services.auth.namespaceStatus(auth.namespace);
        if (status === 'unknown') return connectError('Namespace not found', { code: 'not-found' });
        if (status === 'revoked') return connectError('Invalid token');
        data.namespace = auth.namespace;
        rememberScope(data, auth);
      }
      // Neither: accepted, then told `namespace-missing` and disconnected (the seed's contract).
      if (data.namespace === undefined) return undefined;
      const verdict = await services.limits.openConnection(data.namespace, socket.id);
      if (verdict.ok) return undefined;
      return connectError('Too many connections for this namespace', {
        code: verdict.reason,
        limit: verdict.limit,
        retryAfterMs: verdict.retryAfterMs,
      });
    };
    decide().then(
      (error) => next(error),
      (error: unknown) =>
        next(
          error instanceof EngineUnavailableError
            ? connectError('Hub storage unavailable', { code: 'unavailable' })
            : connectError('Handshake failed'),
        ),
    );
  });
}

function rememberScope(data: CliSocketData, auth: HandshakeAuth): void {
  if (auth.sessionId !== undefined) data.sessionId = auth.sessionId;
  if (auth.machineId !== undefined) data.machineId = auth.machineId;
}

export function emitSocketError(socket: CliSocket, error: SocketError): void {
  socket.emit('error', error);
}

export function accessErrorMessage(scope: 'session' | 'machine', reason: 'access-denied' | 'not-found'): string {
  return reason === 'access-denied' ? `${scope} access denied` : `${scope} not found`;
}

/** Joins session:/machine: rooms named in the handshake. Returns false when the socket was dropped. */
export async function joinHandshakeRooms(socket: CliSocket, services: Services): Promise<boolean> {
  const namespace = socket.data.namespace;
  if (namespace === undefined) {
    emitSocketError(socket, { message: 'Namespace missing', code: 'namespace-missing' });
    socket.disconnect(true);
    return false;
  }
  const { sessionId, machineId } = socket.data;
  if (sessionId !== undefined) {
    const access = await services.sessions.access(namespace, sessionId);
    if (access.ok) {
      await joinSessionRoom(socket, services, namespace, sessionId);
      // A (re)attaching CLI gets every prompt still queued for it.
      await services.messages.replayQueued(namespace, sessionId);
    } else {
      socket.data.pendingSessionId = sessionId;
    }
  }
  if (machineId !== undefined) {
    const access = await services.machines.access(namespace, machineId);
    if (access.ok) await socket.join(roomName('machine', namespace, machineId));
    else socket.data.pendingMachineId = machineId;
  }
  return true;
}

/** Late join: the first successful event for an id named in the handshake joins its room. */
export async function joinIfPending(
  socket: CliSocket,
  services: Services,
  scope: 'session' | 'machine',
  id: string,
): Promise<void> {
  const namespace = socket.data.namespace;
  if (scope === 'session' && socket.data.pendingSessionId === id && namespace !== undefined) {
    delete socket.data.pendingSessionId;
    await joinSessionRoom(socket, services, namespace, id);
  } else if (scope === 'machine' && socket.data.pendingMachineId === id && namespace !== undefined) {
    delete socket.data.pendingMachineId;
    await socket.join(roomName('machine', namespace, id));
  }
}

/**
 * Joins a session room, counted as attached first: the count may run ahead of the room for a
 * moment, never behind it, so a sender that sees "only me" can skip the room broadcast safely.
 */
async function joinSessionRoom(socket: CliSocket, services: Services, namespace: string, sid: string): Promise<void> {
  const room = roomName('session', namespace, sid);
  if (socket.rooms.has(room)) return;
  await services.sessions.countAttachedSocket(namespace, sid, 1);
  socket.data.countedSessions = [...(socket.data.countedSessions ?? []), sid];
  await socket.join(room);
}

/**
 * Uncounts a counted session room when its socket leaves it — disconnects included: Socket.IO
 * leaves every room before it forgets the socket. One listener for the whole namespace.
 */
export function installAttachedSocketCounting(
  cli: Namespace,
  services: Services,
  onError: (error: unknown) => void,
): void {
  cli.adapter.on('leave-room', (room: string, socketId: string) => {
    const socket = cli.sockets.get(socketId) as CliSocket | undefined;
    const namespace = socket?.data.namespace;
    if (!socket || namespace === undefined) return;
    const prefix = roomName('session', namespace, '');
    if (!room.startsWith(prefix)) return;
    const sid = room.slice(prefix.length);
    const counted = socket.data.countedSessions;
    if (!counted?.includes(sid)) return;
    socket.data.countedSessions = counted.filter((id) => id !== sid);
    // A failed uncount leaves the count too high: broadcasts that could have been skipped are not.
    services.sessions.countAttachedSocket(namespace, sid, -1).catch(onError);
  });
}
