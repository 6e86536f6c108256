// Real socket.io-client sockets and real HTTP for plane tests.
//
// Every socket made by `connectCli` / `openCli` records every event it receives from the moment
// it is created (before `connect`), so an event the hub sends right after the handshake is never
// missed. `nextEvent` takes the oldest recorded, not yet taken event that matches (or waits for
// one, with a bounded timeout that fails the test with a readable message); `takenOrPending`
// queries are for "nothing arrived" assertions AFTER a round-trip barrier:
//
//   await nextEvent(other, 'update');          // the hub's emit happened...
//   await emitAck(sender, 'ping');             // ...and anything for `sender` was written before this ack
//   expect(pendingEvents(sender, 'update')).toEqual([]);
import { io, type Socket } from 'socket.io-client';

export const DEFAULT_EVENT_TIMEOUT_MS = 5_000;

export interface RecordedEvent {
  name: string;
  args: unknown[];
  taken: boolean;
}

interface Recorder {
  events: RecordedEvent[];
  waiters: Set<() => void>;
}

const recorders = new WeakMap<Socket, Recorder>();

function recorderOf(socket: Socket): Recorder {
  const recorder = recorders.get(socket);
  if (!recorder) throw new Error('socket was not created by connectCli/openCli, so its events were not recorded');
  return recorder;
}

function record(socket: Socket, name: string, args: unknown[]): void {
  const recorder = recorderOf(socket);
  recorder.events.push({ name, args, taken: false });
  for (const wake of [...recorder.waiters]) wake();
}

export interface CliAuth {
  token?: string;
  namespace?: string;
  sessionId?: string;
  machineId?: string;
  clientType?: string;
  [key: string]: unknown;
}

export interface ConnectOptions {
  /** Default ['websocket'] (the real CLI); the seed document also uses ['websocket', 'polling']. */
  transports?: ('websocket' | 'polling')[];
  /** Default false: a test decides itself when to reconnect. */
  reconnection?: boolean;
  /** Socket.IO namespace path; default '/cli'. */
  namespace?: string;
  /** How long to wait for `connect` / `connect_error`. */
  timeoutMs?: number;
  /** Raw extra socket.io-client options (merged last). */
  extra?: Record<string, unknown>;
}

/** Creates a recording socket without waiting for the handshake (see connectCli / connectError). */
export function openCli(url: string, auth: CliAuth | undefined, opts: ConnectOptions = {}): Socket {
  const socket = io(`${url}${opts.namespace ?? '/cli'}`, {
    path: '/socket.io/',
    forceNew: true,
    reconnection: opts.reconnection ?? false,
    transports: opts.transports ?? ['websocket'],
    autoConnect: false,
    ...(auth !== undefined ? { auth } : {}),
    ...opts.extra,
  });
  recorders.set(socket, { events: [], waiters: new Set() });
  socket.onAny((name: string, ...args: unknown[]) => record(socket, name, args));
  socket.on('connect', () => record(socket, 'connect', []));
  socket.on('disconnect', (reason) => record(socket, 'disconnect', [reason]));
  socket.on('connect_error', (error) => record(socket, 'connect_error', [error]));
  socket.connect();
  return socket;
}

/**
 * Connects to the hub's /cli namespace. Resolves with the connected socket on `connect`; rejects
 * with the server's error on `connect_error` (its `message` and `data` are the hub's).
 */
export function connectCli(url: string, auth: CliAuth | undefined, opts: ConnectOptions = {}): Promise<Socket> {
  const socket = openCli(url, auth, opts);
  return new Promise((resolve, reject) => {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_EVENT_TIMEOUT_MS;
    const timer = setTimeout(() => {
      cleanup();
      socket.close();
      reject(new Error(`connectCli: no connect/connect_error within ${timeoutMs} ms (${url})`));
    }, timeoutMs);
    const onConnect = () => {
      cleanup();
      resolve(socket);
    };
    const onError = (error: Error) => {
      cleanup();
      socket.close();
      reject(error);
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('connect_error', onError);
    };
    socket.on('connect', onConnect);
    socket.on('connect_error', onError);
  });
}

export type ConnectError = Error & { data?: { code?: string; [key: string]: unknown } };

/** Expects the handshake to be refused and returns the connect_error (message + data). */
export async function connectError(
  url: string,
  auth: CliAuth | undefined,
  opts: ConnectOptions = {},
): Promise<ConnectError> {
  try {
    const socket = await connectCli(url, auth, opts);
    socket.close();
  } catch (error) {
    return error as ConnectError;
  }
  throw new Error(`expected the handshake to be refused, but it connected (auth ${JSON.stringify(auth)})`);
}

/**
 * Emits with an acknowledgement and resolves with the first ack argument (undefined when the hub
 * acked with none). Fails after `timeoutMs` with a readable error.
 */
export async function emitAck<T = unknown>(socket: Socket, event: string, ...payload: unknown[]): Promise<T> {
  const args = await emitAckArgs(socket, event, ...payload);
  return args[0] as T;
}

/** Like emitAck, but resolves with every ack argument (e.g. to check `ping` acks with none). */
export function emitAckArgs(socket: Socket, event: string, ...payload: unknown[]): Promise<unknown[]> {
  return emitAckArgsWithin(DEFAULT_EVENT_TIMEOUT_MS, socket, event, ...payload);
}

export function emitAckArgsWithin(
  timeoutMs: number,
  socket: Socket,
  event: string,
  ...payload: unknown[]
): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    socket.timeout(timeoutMs).emit(event, ...payload, (error: Error | null, ...args: unknown[]) => {
      if (error) reject(new Error(`no ack for '${event}' within ${timeoutMs} ms`));
      else resolve(args);
    });
  });
}

/** Round-trip barrier: everything the hub wrote to this socket before acking is now recorded. */
export async function pingBarrier(socket: Socket): Promise<void> {
  await emitAck(socket, 'ping');
}

export type EventPredicate = (...args: unknown[]) => boolean;

/**
 * The oldest recorded, untaken `name` event whose arguments satisfy `predicate`; waits for one
 * if none arrived yet. Resolves with its first argument (use nextEventArgs for all of them).
 */
export async function nextEvent<T = unknown>(
  socket: Socket,
  name: string,
  predicate?: EventPredicate,
  timeoutMs = DEFAULT_EVENT_TIMEOUT_MS,
): Promise<T> {
  const args = await nextEventArgs(socket, name, predicate, timeoutMs);
  return args[0] as T;
}

export function nextEventArgs(
  socket: Socket,
  name: string,
  predicate?: EventPredicate,
  timeoutMs = DEFAULT_EVENT_TIMEOUT_MS,
): Promise<unknown[]> {
  const recorder = recorderOf(socket);
  const find = (): RecordedEvent | undefined =>
    recorder.events.find(
      (event) => !event.taken && event.name === name && (predicate ? safePredicate(predicate, event.args) : true),
    );
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = find();
      if (!found) return false;
      found.taken = true;
      cleanup();
      resolve(found.args);
      return true;
    };
    const timer = setTimeout(() => {
      cleanup();
      const seen = recorder.events.map(
        (e) => `${e.taken ? '(taken) ' : ''}${e.name} ${truncate(JSON.stringify(e.args))}`,
      );
      reject(
        new Error(
          `timed out after ${timeoutMs} ms waiting for '${name}'${predicate ? ' matching the predicate' : ''} on socket ${socket.id ?? '(unconnected)'}; received:\n  ${seen.join('\n  ') || '(nothing)'}`,
        ),
      );
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      recorder.waiters.delete(wake);
    };
    const wake = () => void check();
    if (check()) return;
    recorder.waiters.add(wake);
  });
}

function safePredicate(predicate: EventPredicate, args: unknown[]): boolean {
  try {
    return predicate(...args);
  } catch {
    return false;
  }
}

function truncate(text: string | undefined, max = 300): string {
  if (text === undefined) return '';
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** First arguments of the recorded, untaken `name` events matching `predicate` (not consumed). */
export function pendingEvents<T = unknown>(socket: Socket, name: string, predicate?: EventPredicate): T[] {
  return recorderOf(socket)
    .events.filter(
      (event) => !event.taken && event.name === name && (predicate ? safePredicate(predicate, event.args) : true),
    )
    .map((event) => event.args[0] as T);
}

/** First arguments of every recorded `name` event (taken or not) matching `predicate`. */
export function allEvents<T = unknown>(socket: Socket, name: string, predicate?: EventPredicate): T[] {
  return recorderOf(socket)
    .events.filter((event) => event.name === name && (predicate ? safePredicate(predicate, event.args) : true))
    .map((event) => event.args[0] as T);
}

/** Marks every recorded event as taken (start a new phase of a test with a clean slate). */
export function drainEvents(socket: Socket): void {
  for (const event of recorderOf(socket).events) event.taken = true;
}

/** Resolves once the socket is disconnected (immediately if it already is), with the reason. */
export async function disconnected(socket: Socket, timeoutMs = DEFAULT_EVENT_TIMEOUT_MS): Promise<string> {
  const reason = await nextEvent<string>(socket, 'disconnect', undefined, timeoutMs);
  return reason;
}

/** Closes sockets (ignores ones already closed). */
export function closeAll(...sockets: (Socket | undefined)[]): void {
  for (const socket of sockets) socket?.close();
}

// Predicates for hub → CLI `update` envelopes --------------------------------------------------

type Envelope = {
  body?: { t?: string; sid?: string; machineId?: string; message?: { localId?: unknown; id?: unknown } };
};

export const isNewMessage =
  (sid: string, localId?: string): EventPredicate =>
  (update) => {
    const body = (update as Envelope).body;
    return (
      body?.t === 'new-message' && body.sid === sid && (localId === undefined || body.message?.localId === localId)
    );
  };

export const isUpdateSession =
  (sid: string): EventPredicate =>
  (update) => {
    const body = (update as Envelope).body;
    return body?.t === 'update-session' && body.sid === sid;
  };

export const isUpdateMachine =
  (machineId: string): EventPredicate =>
  (update) => {
    const body = (update as Envelope).body;
    return body?.t === 'update-machine' && body.machineId === machineId;
  };

// /cli/* REST -----------------------------------------------------------------------------

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** One HTTP request; the body is parsed as JSON when the response says so (else text). */
export async function httpJson<T = any>(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown; rawBody?: string } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined = init.rawBody;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(url, {
    method: init.method ?? (body !== undefined ? 'POST' : 'GET'),
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await response.text();
  const isJson = (response.headers.get('content-type') ?? '').includes('json');
  return {
    status: response.status,
    headers: response.headers,
    body: (isJson && text.length > 0 ? JSON.parse(text) : text) as T,
  };
}

/** REST client for `/cli/*` with `Authorization: Bearer <token>` (token = `base[:namespace]`). */
export function cliRest(baseUrl: string, token: string) {
  const auth = { authorization: `Bearer ${token}` };
  return {
    token,
    request: <T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = auth) =>
      httpJson<T>(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) }),
    createSession: <T = any>(body: unknown) =>
      httpJson<T>(`${baseUrl}/cli/sessions`, { method: 'POST', headers: auth, body }),
    getSession: <T = any>(id: string) =>
      httpJson<T>(`${baseUrl}/cli/sessions/${encodeURIComponent(id)}`, { headers: auth }),
    getMessages: <T = any>(
      id: string,
      query: { afterSeq?: number | string; limit?: number | string } = { afterSeq: 0 },
    ) => {
      const params = new URLSearchParams();
      if (query.afterSeq !== undefined) params.set('afterSeq', String(query.afterSeq));
      if (query.limit !== undefined) params.set('limit', String(query.limit));
      return httpJson<T>(`${baseUrl}/cli/sessions/${encodeURIComponent(id)}/messages?${params}`, { headers: auth });
    },
    createMachine: <T = any>(body: unknown) =>
      httpJson<T>(`${baseUrl}/cli/machines`, { method: 'POST', headers: auth, body }),
    getMachine: <T = any>(id: string) =>
      httpJson<T>(`${baseUrl}/cli/machines/${encodeURIComponent(id)}`, { headers: auth }),
  };
}
export type CliRest = ReturnType<typeof cliRest>;
