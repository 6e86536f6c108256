// Per-file setup for the web-plane route suites: one real hub (memory engine, manual clock,
// RPC timeout 500 ms), two tenants with web JWTs, and "CLI" / "runner" sockets built from real
// socket.io-client connections that answer rpc-request the way the real CLI's RpcHandlerManager
// does (JSON string in, JSON string out).
//
//   const world = useWebWorld();
//   const { session, socket, rpc } = await world.alice.liveSession();
//   rpc.handle('abort', () => ({ ok: true }));  await rpc.register('abort');
//   const res = await world.alice.api.post(`/api/sessions/${session.id}/abort`);
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { Machine, Session } from '../../src/protocol/models.js';
import { RpcRequestSchema } from '../../src/protocol/socket-events.js';
import { cliRest, connectCli, pingBarrier, type CliRest } from './cli-client.js';
import { createMachine, createSession, uniqueNamespace } from './fixtures.js';
import { startTestHub, type TestHub, type TestHubOptions } from './hub.js';
import { loginWeb, webApi, type WebApi } from './web-api.js';

/** What a fake handler returns: a value to ack, or NO_ANSWER to leave the request hanging. */
export const NO_ANSWER = Symbol('no-answer');
export type RpcHandler = (params: unknown) => unknown | Promise<unknown>;

export interface RpcCall {
  name: string;
  params: unknown;
}

/** RPC side of a fake CLI/runner socket whose methods are scoped to `scopeId`. */
export interface FakeRpc {
  /** Every request received, in order. */
  readonly calls: RpcCall[];
  /** Sets the handler for `<scopeId>:<name>` (not yet registered with the hub). */
  handle(name: string, handler: RpcHandler): void;
  /** rpc-register `<scopeId>:<name>`; resolves once the hub processed it (ping barrier). */
  register(...names: string[]): Promise<void>;
  /** handle + register. */
  serve(name: string, handler: RpcHandler): Promise<void>;
  /** Resolves with the next call of `name` (already received or future). */
  nextCall(name: string): Promise<RpcCall>;
}

export function fakeRpc(socket: Socket, scopeId: string): FakeRpc {
  const calls: RpcCall[] = [];
  const handlers = new Map<string, RpcHandler>();
  const waiters: { name: string; resolve: (call: RpcCall) => void }[] = [];
  /** Calls already handed out by nextCall. */
  const taken = new Set<RpcCall>();
  socket.on('rpc-request', (raw: unknown, ack: (response: string) => void) => {
    const request = RpcRequestSchema.parse(raw);
    const name = request.method.slice(scopeId.length + 1);
    const call: RpcCall = { name, params: JSON.parse(request.params) as unknown };
    calls.push(call);
    const waiter = waiters.find((w) => w.name === name);
    if (waiter) {
      taken.add(call);
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(call);
    }
    const handler = handlers.get(name);
    // The real CLI answers unknown methods with {error:'Method not found'} and handler throws with {error}.
    void Promise.resolve()
      .then(() => (handler ? handler(call.params) : { error: 'Method not found' }))
      .catch((error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }))
      .then((result) => {
        if (result !== NO_ANSWER) ack(JSON.stringify(result));
      });
  });
  const rpc: FakeRpc = {
    calls,
    handle(name, handler) {
      handlers.set(name, handler);
    },
    async register(...names) {
      for (const name of names) socket.emit('rpc-register', { method: `${scopeId}:${name}` });
      await pingBarrier(socket);
    },
    async serve(name, handler) {
      rpc.handle(name, handler);
      await rpc.register(name);
    },
    nextCall(name) {
      const existing = calls.find((call) => call.name === name && !taken.has(call));
      if (existing) {
        taken.add(existing);
        return Promise.resolve(existing);
      }
      return new Promise((resolve) => waiters.push({ name, resolve }));
    },
  };
  return rpc;
}

export interface LiveSession {
  session: Session;
  socket: Socket;
  rpc: FakeRpc;
}

export interface Runner {
  machine: Machine;
  socket: Socket;
  rpc: FakeRpc;
}

export interface WebTenant {
  ns: string;
  /** `<CLI_API_TOKEN>:<ns>`. */
  token: string;
  rest: CliRest;
  /** /api client authenticated with this tenant's JWT. */
  api: WebApi;
  jwt: string;
  /** A socket with this tenant's token (plus `auth` extras); closed after the test. */
  connect(auth?: Record<string, unknown>): Promise<Socket>;
  /** POST /cli/sessions (inactive: nobody sent session-alive). */
  session(body?: Record<string, unknown>): Promise<Session>;
  /** A session whose CLI socket is attached and has sent session-alive (so it is active). */
  liveSession(body?: Record<string, unknown>): Promise<LiveSession>;
  /** Attaches a CLI socket to an existing session and makes it alive. */
  attach(sessionId: string): Promise<LiveSession>;
  /** A machine with an attached runner socket that has sent machine-alive (so it is online). */
  runner(body?: Record<string, unknown>): Promise<Runner>;
}

export interface WebWorld {
  readonly t: TestHub;
  readonly alice: WebTenant;
  readonly bob: WebTenant;
  /** A new tenant (fresh namespace) for tests that need a pristine one. */
  tenant(prefix?: string): Promise<WebTenant>;
}

export function useWebWorld(options: TestHubOptions = {}): WebWorld {
  let hub: TestHub | undefined;
  let alice: WebTenant | undefined;
  let bob: WebTenant | undefined;
  const open: Socket[] = [];

  const makeTenant = async (t: TestHub, prefix: string): Promise<WebTenant> => {
    const ns = uniqueNamespace(prefix);
    const token = t.tokenFor(ns);
    const rest = cliRest(t.url, token);
    const jwt = await loginWeb(t.url, token);
    const connect = async (auth: Record<string, unknown> = {}) => {
      const socket = await connectCli(t.url, { ...auth, token });
      open.push(socket);
      return socket;
    };
    const attach = async (sessionId: string): Promise<LiveSession> => {
      const socket = await connect({ sessionId });
      const rpc = fakeRpc(socket, sessionId);
      socket.emit('session-alive', { sid: sessionId, time: t.clock.now, thinking: false });
      await pingBarrier(socket);
      const fetched = await rest.getSession(sessionId);
      return { session: fetched.body.session as Session, socket, rpc };
    };
    const tenant: WebTenant = {
      ns,
      token,
      rest,
      jwt,
      api: webApi(t.url, jwt),
      connect,
      session: (body = {}) => createSession(rest, body),
      async liveSession(body = {}) {
        const session = await createSession(rest, body);
        return attach(session.id);
      },
      attach,
      async runner(body = {}) {
        const machine = await createMachine(rest, { runnerState: { status: 'running' }, ...body });
        const socket = await connect({ machineId: machine.id });
        const rpc = fakeRpc(socket, machine.id);
        socket.emit('machine-alive', { machineId: machine.id, time: t.clock.now });
        await pingBarrier(socket);
        return { machine, socket, rpc };
      },
    };
    return tenant;
  };

  beforeAll(async () => {
    hub = await startTestHub({ rpcTimeoutMs: 500, ...options });
    alice = await makeTenant(hub, 'alice');
    bob = await makeTenant(hub, 'bob');
  });
  afterEach(() => {
    for (const socket of open.splice(0)) socket.close();
  });
  afterAll(async () => {
    await hub?.close();
  });

  return {
    get t() {
      if (!hub) throw new Error('the hub is only available inside tests');
      return hub;
    },
    get alice() {
      if (!alice) throw new Error('tenants are only available inside tests');
      return alice;
    },
    get bob() {
      if (!bob) throw new Error('tenants are only available inside tests');
      return bob;
    },
    tenant(prefix = 'tenant') {
      if (!hub) throw new Error('the hub is only available inside tests');
      return makeTenant(hub, prefix);
    },
  };
}
