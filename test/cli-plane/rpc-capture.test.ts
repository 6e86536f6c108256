// Tenant isolation of RPC routes, machines and sessions by id (the cross-namespace capture):
// tenant alice, knowing only bob's ids, can neither capture, displace nor block bob's RPCs, nor
// learn whether an id exists in bob's namespace. Run on the memory engine and on Redis with two
// hubs sharing it through the Socket.IO Redis adapter (two workers of one cluster), with real
// per-namespace tokens.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { createSocketAdapter, type SocketAdapter } from '../../src/cluster/socket-adapter.js';
import { createRedisEngine } from '../../src/engine/redis/engine.js';
import type { Engine } from '../../src/engine/engine.js';
import { createLogger } from '../../src/ops/logger.js';
import { NamespaceAdmin } from '../../src/services/auth.js';
import {
  cliRest,
  closeAll,
  connectCli,
  emitAck,
  nextEvent,
  pendingEvents,
  pingBarrier,
  type CliRest,
} from '../helpers/cli-client.js';
import { createMachine, createSession, uniqueNamespace } from '../helpers/fixtures.js';
import { randomToken, startTestHub, type TestHub } from '../helpers/hub.js';
import { getTestRedisUrl } from '../helpers/redis-server.js';
import { loginWeb, webApi, type WebApi } from '../helpers/web-api.js';
import { fakeRpc } from '../helpers/web-world.js';

interface Workers {
  /** Where alice's sockets and every web request land. */
  a: TestHub;
  /** Where bob's sockets land (the same hub on the memory engine). */
  b: TestHub;
  engine: Engine;
  close(): Promise<void>;
}

interface Tenant {
  ns: string;
  rest: CliRest;
  api: WebApi;
  connect(auth?: Record<string, unknown>): Promise<Socket>;
}

/** The socket a route points at: in a cluster the route also names the worker (`<socket>@<worker>`). */
function socketOf(route: string | null): string | null {
  return route === null ? null : route.replace(/@[^@]*$/, '');
}

const ENGINE_OPTIONS = { eventLogMaxEvents: 1024, eventLogMaxBytes: 8 << 20, messageHistoryLimit: 0 };

async function memoryWorkers(): Promise<Workers> {
  const hub = await startTestHub({ rpcTimeoutMs: 3_000 });
  return { a: hub, b: hub, engine: hub.engine, close: () => hub.close() };
}

async function redisWorkers(): Promise<Workers> {
  const redis = await getTestRedisUrl();
  const cliApiToken = randomToken();
  const engines: Engine[] = [];
  const adapters: SocketAdapter[] = [];
  const hubs: TestHub[] = [];
  for (let i = 0; i < 2; i += 1) {
    const engine = await createRedisEngine(redis.url, ENGINE_OPTIONS);
    const adapter = await createSocketAdapter(redis.url, { log: createLogger('silent') });
    engines.push(engine);
    adapters.push(adapter);
    hubs.push(
      await startTestHub({ engine, adapter: adapter.factory, cliApiToken, redisUrl: redis.url, rpcTimeoutMs: 3_000 }),
    );
  }
  const [a, b] = hubs as [TestHub, TestHub];
  return {
    a,
    b,
    engine: engines[0] as Engine,
    async close() {
      for (const hub of hubs) await hub.close();
      for (const adapter of adapters) await adapter.close();
      for (const engine of engines) await engine.close();
      await redis.stop();
    },
  };
}

const open: Socket[] = [];

/** A tenant with its own namespace token (`<token>:<ns>`), its sockets on `socketHub`. */
async function tenant(workers: Workers, socketHub: TestHub, prefix: string): Promise<Tenant> {
  const ns = uniqueNamespace(prefix);
  const { token } = await new NamespaceAdmin(workers.engine, Date.now).create(ns);
  const access = `${token}:${ns}`;
  return {
    ns,
    rest: cliRest(workers.a.url, access),
    api: webApi(workers.a.url, await loginWeb(workers.a.url, access)),
    async connect(auth = {}) {
      const socket = await connectCli(socketHub.url, { ...auth, token: access });
      open.push(socket);
      return socket;
    },
  };
}

async function noErrors(socket: Socket): Promise<void> {
  await pingBarrier(socket);
  expect(pendingEvents(socket, 'error')).toEqual([]);
}

describe.each([
  ['memory', memoryWorkers],
  ['redis, two workers', redisWorkers],
] as const)('cross-namespace ids (%s)', (_name, start) => {
  let workers: Workers;
  let alice: Tenant;
  let bob: Tenant;

  beforeAll(async () => {
    workers = await start();
    alice = await tenant(workers, workers.a, 'alice');
    bob = await tenant(workers, workers.b, 'bob');
  });
  afterAll(async () => {
    closeAll(...open.splice(0));
    await workers?.close();
  });

  it("alice cannot capture, displace or block bob's RPCs knowing only bob's ids", async () => {
    // 1. bob's session SB with its CLI serving readFile; bob's machine MB with its runner serving spawn.
    const sb = await createSession(bob.rest);
    const mb = await createMachine(bob.rest, { id: randomUUID() }); // real runners use UUIDs, which are also valid session ids
    const bobCli = await bob.connect({ sessionId: sb.id, clientType: 'session-scoped' });
    await fakeRpc(bobCli, sb.id).serve('readFile', () => ({ success: true, content: 'bob-file' }));
    const bobRunner = await bob.connect({ machineId: mb.id, clientType: 'machine-scoped' });
    const bobSpawn = fakeRpc(bobRunner, mb.id);
    await bobSpawn.serve('spawn-happy-session', () => ({ type: 'success', sessionId: 'bob-spawned' }));
    await noErrors(bobCli);
    await noErrors(bobRunner);

    // 2. alice creates a machine named SB and a session named MB: her own, fresh objects.
    const squatMachine = await alice.rest.createMachine({
      id: sb.id,
      metadata: { host: 'alice-host', platform: 'linux', happyCliVersion: '0.30.7' },
      runnerState: null,
    });
    expect(squatMachine.status).toBe(200);
    expect(squatMachine.body.machine).toMatchObject({
      id: sb.id,
      metadataVersion: 1,
      metadata: { host: 'alice-host' },
    });
    const squatSession = await alice.rest.createSession({
      id: mb.id,
      tag: 'x',
      metadata: { path: '/alice', host: 'alice-host' },
    });
    expect(squatSession.status).toBe(200);
    expect(squatSession.body.session).toMatchObject({ id: mb.id, metadataVersion: 1, metadata: { path: '/alice' } });

    // 3. alice's machine-scoped socket for "SB" may serve SB:readFile in her namespace only; bob's
    //    spawn method is not under her socket's id and is refused like any access denial.
    const aliceMachineSocket = await alice.connect({ machineId: sb.id, clientType: 'machine-scoped' });
    const aliceRpc = fakeRpc(aliceMachineSocket, sb.id);
    await aliceRpc.serve('readFile', () => ({ success: true, content: 'alice-chosen' }));
    await noErrors(aliceMachineSocket);
    aliceMachineSocket.emit('rpc-register', { method: `${mb.id}:spawn-happy-session` });
    expect(await nextEvent(aliceMachineSocket, 'error')).toEqual({
      message: 'machine access denied',
      code: 'access-denied',
      scope: 'machine',
      id: mb.id,
    });
    const aliceSessionSocket = await alice.connect({ sessionId: mb.id, clientType: 'session-scoped' });
    const aliceSpawn = fakeRpc(aliceSessionSocket, mb.id);
    await aliceSpawn.serve('spawn-happy-session', () => ({ type: 'success', sessionId: 'alice-chosen' }));
    await noErrors(aliceSessionSocket);

    // 4. bob's calls still reach bob's own sockets; alice's sockets receive nothing.
    const file = await bob.api.get(`/api/sessions/${sb.id}/file`, { path: '/home/bob/.ssh/id_rsa' });
    expect(file).toMatchObject({ status: 200, body: { success: true, content: 'bob-file' } });
    const spawn = await bob.api.post(`/api/machines/${mb.id}/spawn`, { directory: '/tmp' });
    expect(spawn).toMatchObject({ status: 200, body: { type: 'success', sessionId: 'bob-spawned' } });

    // rpc-unregister of bob's method from alice's sockets removes nothing of bob's.
    aliceMachineSocket.emit('rpc-unregister', { method: `${mb.id}:spawn-happy-session` });
    aliceSessionSocket.emit('rpc-unregister', { method: `${sb.id}:readFile` });
    await noErrors(aliceMachineSocket);
    await noErrors(aliceSessionSocket);
    expect(socketOf(await workers.engine.rpcRoutes.get(bob.ns, `${mb.id}:spawn-happy-session`))).toBe(bobRunner.id);
    expect(socketOf(await workers.engine.rpcRoutes.get(bob.ns, `${sb.id}:readFile`))).toBe(bobCli.id);

    // The victim reconnects and re-registers: still bob's, never alice's.
    bobCli.close();
    const bobCliAgain = await bob.connect({ sessionId: sb.id, clientType: 'session-scoped' });
    await fakeRpc(bobCliAgain, sb.id).serve('readFile', () => ({ success: true, content: 'bob-file-again' }));
    const fileAgain = await bob.api.get(`/api/sessions/${sb.id}/file`, { path: '/etc/hostname' });
    expect(fileAgain).toMatchObject({ status: 200, body: { success: true, content: 'bob-file-again' } });
    expect(aliceRpc.calls).toEqual([]);
    expect(aliceSpawn.calls).toEqual([]);

    // alice's own objects work for alice, and bob's sockets never hear of them.
    const aliceSpawned = await alice.api.post(`/api/machines/${sb.id}/spawn`, { directory: '/tmp' });
    expect(aliceSpawned).toMatchObject({ status: 200, body: { type: 'error' } });
    const aliceFile = await alice.api.get(`/api/sessions/${mb.id}/file`, { path: '/x' });
    expect(aliceFile).toMatchObject({ status: 200, body: { success: false } });
    expect(bobSpawn.calls.map((call) => call.name)).toEqual(['spawn-happy-session']); // bob's own call only
  });

  it('a machine id squatted in another namespace blocks nothing: the owner registers and runs as usual', async () => {
    const id = `machine-${randomUUID()}`;
    await createMachine(alice.rest, {
      id,
      metadata: { host: 'alice-host', platform: 'linux', happyCliVersion: '0.30.7' },
    });
    const bobs = await createMachine(bob.rest, {
      id,
      metadata: { host: 'bob-host', platform: 'linux', happyCliVersion: '0.30.7' },
      runnerState: { status: 'running' },
    });
    expect(bobs).toMatchObject({
      id,
      metadata: { host: 'bob-host' },
      metadataVersion: 1,
      runnerState: { status: 'running' },
    });
    const runner = await bob.connect({ machineId: id, clientType: 'machine-scoped' });
    runner.emit('machine-alive', { machineId: id, time: Date.now() });
    await fakeRpc(runner, id).serve('list-directory', () => ({
      success: true,
      entries: [{ name: 'bob-dir', type: 'directory' }],
    }));
    await noErrors(runner);
    const listed = await bob.api.post(`/api/machines/${id}/list-directory`, { path: '/' });
    expect(listed).toMatchObject({ status: 200, body: { success: true, entries: [{ name: 'bob-dir' }] } });
    const bobMachines = await bob.api.get('/api/machines');
    expect(bobMachines.body.machines).toEqual([
      expect.objectContaining({ id, metadata: expect.objectContaining({ host: 'bob-host' }) }),
    ]);
    const aliceMachines = await alice.api.get('/api/machines');
    expect(aliceMachines.body.machines.filter((machine: { id: string }) => machine.id === id)).toEqual([]);
  });

  it("answers another tenant's ids exactly as never-used ids, on REST and on the socket", async () => {
    const session = await createSession(bob.rest);
    const machine = await createMachine(bob.rest);
    const fresh = { session: randomUUID(), machine: `machine-${randomUUID()}` };
    const probe = async (sid: string, mid: string) => {
      const socket = await alice.connect();
      const acks = [
        await emitAck(socket, 'update-metadata', { sid, expectedVersion: 1, metadata: { path: '/x', host: 'x' } }),
        await emitAck(socket, 'update-state', { sid, expectedVersion: 1, agentState: {} }),
        await emitAck(socket, 'machine-update-metadata', {
          machineId: mid,
          expectedVersion: 1,
          metadata: { host: 'x', platform: 'x', happyCliVersion: 'x' },
        }),
        await emitAck(socket, 'machine-update-state', { machineId: mid, expectedVersion: 1, runnerState: {} }),
      ];
      const errors: unknown[] = [];
      for (const [event, payload] of [
        ['message', { sid, message: { role: 'user', content: { type: 'text', text: 'x' } } }],
        ['session-alive', { sid, time: Date.now() }],
        ['session-end', { sid, time: Date.now() }],
        ['machine-alive', { machineId: mid, time: Date.now() }],
      ] as const) {
        socket.emit(event, payload);
        const error = (await nextEvent(socket, 'error')) as { id?: string };
        errors.push({ ...error, id: error.id === sid || error.id === mid ? '<id>' : error.id });
      }
      const rest = [
        await alice.rest.getSession(sid),
        await alice.rest.getMessages(sid),
        await alice.rest.getMachine(mid),
        await alice.api.get(`/api/sessions/${sid}`),
        await alice.api.get(`/api/sessions/${sid}/messages`),
        await alice.api.post(`/api/sessions/${sid}/abort`),
        await alice.api.patch(`/api/sessions/${sid}`, { name: 'x' }),
        await alice.api.del(`/api/sessions/${sid}`),
        await alice.api.post(`/api/machines/${mid}/spawn`, { directory: '/tmp' }),
        await alice.api.post(`/api/machines/${mid}/paths/exists`, { paths: ['/'] }),
      ].map((response) => ({ status: response.status, body: response.body }));
      socket.close();
      return { acks, errors, rest };
    };
    const foreign = await probe(session.id, machine.id);
    expect(foreign).toEqual(await probe(fresh.session, fresh.machine));
    expect(foreign.rest.map((response) => response.status)).toEqual([404, 404, 404, 404, 404, 404, 404, 404, 404, 404]);
    // …and bob's objects are untouched.
    expect((await bob.rest.getSession(session.id)).body.session).toMatchObject({
      metadataVersion: 1,
      agentStateVersion: 1,
      active: false,
    });
    expect((await bob.rest.getMachine(machine.id)).body.machine).toMatchObject({
      metadataVersion: 1,
      runnerStateVersion: 1,
      active: false,
    });
  });

  it('a socket registers methods only under its own session or machine id, and only once it exists', async () => {
    const [s1, s2] = [await createSession(alice.rest), await createSession(alice.rest)];
    const socket = await alice.connect({ sessionId: s1.id });
    socket.emit('rpc-register', { method: `${s2.id}:abort` });
    expect(await nextEvent(socket, 'error')).toEqual({
      message: 'session access denied',
      code: 'access-denied',
      scope: 'session',
      id: s2.id,
    });
    socket.emit('rpc-register', { method: `${s1.id}:` });
    expect(await nextEvent(socket, 'error')).toEqual({
      message: 'session access denied',
      code: 'access-denied',
      scope: 'session',
      id: s1.id,
    });
    const unscoped = await alice.connect();
    unscoped.emit('rpc-register', { method: `${s1.id}:abort` });
    expect(await nextEvent(unscoped, 'error')).toEqual({
      message: 'session access denied',
      code: 'access-denied',
      scope: 'session',
      id: s1.id,
    });
    expect(await workers.engine.rpcRoutes.get(alice.ns, `${s2.id}:abort`)).toBeNull();
    expect(await workers.engine.rpcRoutes.get(alice.ns, `${s1.id}:abort`)).toBeNull();

    // A handshake id that does not exist yet: refused as not-found until it is created.
    const machineId = `host:${randomUUID()}`; // machine ids may contain ':'
    const runner = await alice.connect({ machineId });
    runner.emit('rpc-register', { method: `${machineId}:spawn-happy-session` });
    expect(await nextEvent(runner, 'error')).toEqual({
      message: 'machine not found',
      code: 'not-found',
      scope: 'machine',
      id: machineId,
    });
    await createMachine(alice.rest, { id: machineId });
    runner.emit('rpc-register', { method: `${machineId}:spawn-happy-session` });
    await noErrors(runner);
    expect(socketOf(await workers.engine.rpcRoutes.get(alice.ns, `${machineId}:spawn-happy-session`))).toBe(runner.id);
  });
});
