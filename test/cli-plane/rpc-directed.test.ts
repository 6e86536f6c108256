// Directed RPC across workers: two hubs sharing a real redis-server through the Socket.IO Redis
// adapter (two workers of one cluster). A route names the worker holding the socket; a call from
// the other worker goes over that worker's channel only, with the same answers, timeouts, errors
// and last-registration-wins as in one process.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Socket } from 'socket.io-client';
import { createSocketAdapter, type SocketAdapter } from '../../src/cluster/socket-adapter.js';
import { createRedisEngine } from '../../src/engine/redis/engine.js';
import type { Engine } from '../../src/engine/engine.js';
import { createLogger } from '../../src/ops/logger.js';
import { RpcRequestSchema } from '../../src/protocol/socket-events.js';
import { RpcTargetMissingError, RpcTimeoutError } from '../../src/services/errors.js';
import { cliRest, closeAll, connectCli, pingBarrier, type CliRest } from '../helpers/cli-client.js';
import { createSession, uniqueNamespace } from '../helpers/fixtures.js';
import { randomToken, startTestHub, type TestHub } from '../helpers/hub.js';
import { getTestRedisUrl } from '../helpers/redis-server.js';

const ENGINE_OPTIONS = { eventLogMaxEvents: 1024, eventLogMaxBytes: 8 << 20, messageHistoryLimit: 0 };

let redis: { url: string; stop(): Promise<void> };
const engines: Engine[] = [];
const adapters: SocketAdapter[] = [];
const hubs: TestHub[] = [];
const sockets: Socket[] = [];
let a: TestHub;
let b: TestHub;
let ns: string;
let rest: CliRest;

beforeAll(async () => {
  redis = await getTestRedisUrl();
  const cliApiToken = randomToken();
  for (let i = 0; i < 2; i += 1) {
    const engine = await createRedisEngine(redis.url, ENGINE_OPTIONS);
    const adapter = await createSocketAdapter(redis.url, { log: createLogger('silent') });
    engines.push(engine);
    adapters.push(adapter);
    hubs.push(await startTestHub({ engine, adapter: adapter.factory, cliApiToken, redisUrl: redis.url }));
  }
  [a, b] = hubs as [TestHub, TestHub];
  ns = uniqueNamespace('directed');
  rest = cliRest(a.url, a.tokenFor(ns));
});

afterAll(async () => {
  closeAll(...sockets);
  for (const hub of hubs) await hub.close();
  for (const adapter of adapters) await adapter.close();
  for (const engine of engines) await engine.close();
  await redis.stop();
});

async function connectTo(hub: TestHub, sessionId: string): Promise<Socket> {
  const socket = await connectCli(hub.url, { token: hub.tokenFor(ns), sessionId });
  sockets.push(socket);
  return socket;
}

function serve(socket: Socket, answer: string | null): string[] {
  const seen: string[] = [];
  socket.on('rpc-request', (request: unknown, ack: (response: string) => void) => {
    const parsed = RpcRequestSchema.parse(request);
    seen.push(parsed.params);
    if (answer !== null) ack(JSON.stringify({ from: answer, params: JSON.parse(parsed.params) as unknown }));
  });
  return seen;
}

async function register(socket: Socket, method: string): Promise<void> {
  socket.emit('rpc-register', { method });
  await pingBarrier(socket);
}

describe('directed RPC (redis, two workers)', () => {
  it('a route names the socket and its worker; a call from the other worker reaches it and only it', async () => {
    const session = await createSession(rest);
    const onB = await connectTo(b, session.id);
    const seen = serve(onB, 'b');
    await register(onB, `${session.id}:echo`);
    const route = await a.engine.rpcRoutes.get(ns, `${session.id}:echo`);
    expect(route).toMatch(new RegExp(`^${onB.id}@[\\w-]+$`));
    expect(await a.hub.services.rpc.call(ns, session.id, 'echo', { n: 1 })).toEqual({ from: 'b', params: { n: 1 } });
    // From the holder itself: answered locally.
    expect(await b.hub.services.rpc.call(ns, session.id, 'echo', { n: 2 })).toEqual({ from: 'b', params: { n: 2 } });
    expect(seen).toEqual(['{"n":1}', '{"n":2}']);
  });

  it('last registration wins across workers', async () => {
    const session = await createSession(rest);
    const method = `${session.id}:echo`;
    const onA = await connectTo(a, session.id);
    const onB = await connectTo(b, session.id);
    const seenA = serve(onA, 'a');
    const seenB = serve(onB, 'b');
    await register(onB, method);
    expect(await a.hub.services.rpc.call(ns, session.id, 'echo', 1)).toMatchObject({ from: 'b' });
    await register(onA, method);
    expect(await b.hub.services.rpc.call(ns, session.id, 'echo', 2)).toMatchObject({ from: 'a' });
    expect(await a.hub.services.rpc.call(ns, session.id, 'echo', 3)).toMatchObject({ from: 'a' });
    expect(seenB).toEqual(['1']);
    expect(seenA).toEqual(['2', '3']);
  });

  it('no answer from a socket on the other worker within timeoutMs → RpcTimeoutError', async () => {
    const session = await createSession(rest);
    const onB = await connectTo(b, session.id);
    const seen = serve(onB, null);
    await register(onB, `${session.id}:slow`);
    const failure = await a.hub.services.rpc.call(ns, session.id, 'slow', {}, 200).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RpcTimeoutError);
    expect(seen).toHaveLength(1);
  });

  it('a socket that left the other worker, or a worker that is gone → socket disconnected, without the timeout', async () => {
    const session = await createSession(rest);
    const onB = await connectTo(b, session.id);
    await register(onB, `${session.id}:gone`);
    const route = (await a.engine.rpcRoutes.get(ns, `${session.id}:gone`)) as string;
    const worker = route.slice(route.lastIndexOf('@') + 1);
    // A route to a socket id the worker does not hold (written as a stale route would be).
    await a.engine.rpcRoutes.set(ns, `${session.id}:stale`, `no-such-socket@${worker}`);
    const stale = await a.hub.services.rpc.call(ns, session.id, 'stale', {}, 20_000).catch((error: unknown) => error);
    expect(stale).toBeInstanceOf(RpcTargetMissingError);
    expect(stale).toMatchObject({ reason: 'socket-disconnected' });
    // A worker id nobody subscribes to (a worker that died).
    await a.engine.rpcRoutes.set(ns, `${session.id}:dead`, `${onB.id}@deadworker`);
    const dead = await a.hub.services.rpc.call(ns, session.id, 'dead', {}, 20_000).catch((error: unknown) => error);
    expect(dead).toMatchObject({ reason: 'socket-disconnected' });
    // Disconnect removes the route: then "handler not registered".
    onB.disconnect();
    await vi.waitFor(async () => expect(await a.engine.rpcRoutes.get(ns, `${session.id}:gone`)).toBeNull(), {
      timeout: 5_000,
      interval: 5,
    });
    await expect(a.hub.services.rpc.call(ns, session.id, 'gone', {})).rejects.toMatchObject({
      reason: 'handler-not-registered',
    });
  }, 5_000); // far below the calls' 20 s timeout
});
