// RPC hub → CLI: registration, call, last registration wins, disconnect cleanup, timeout,
// namespace checks on rpc-register.
import { describe, expect, it, vi } from 'vitest';
import type { Socket } from 'socket.io-client';
import { RpcRequestSchema, type RpcRequest } from '../../src/protocol/socket-events.js';
import { RpcTargetMissingError, RpcTimeoutError } from '../../src/services/errors.js';
import { nextEvent, nextEventArgs, pendingEvents, pingBarrier } from '../helpers/cli-client.js';
import { createMachine, createSession } from '../helpers/fixtures.js';
import { useCliWorld } from './world.js';

const world = useCliWorld();

/** Answers every rpc-request like the real CLI's RpcHandlerManager (JSON string in, JSON string out). */
function serve(socket: Socket, handler: (method: string, params: unknown) => unknown): RpcRequest[] {
  const seen: RpcRequest[] = [];
  socket.on('rpc-request', (request: unknown, ack: (response: string) => void) => {
    const parsed = RpcRequestSchema.parse(request);
    seen.push(parsed);
    ack(JSON.stringify(handler(parsed.method, JSON.parse(parsed.params))));
  });
  return seen;
}

async function register(socket: Socket, method: string): Promise<void> {
  socket.emit('rpc-register', { method });
  await pingBarrier(socket); // events of one socket are handled in order: the registration is done
}

describe('rpc', () => {
  it('a registered <sid>:echo receives rpc-request {method, params: JSON} and its ack is returned parsed', async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    const cli = await alice.connect({ sessionId: session.id });
    await register(cli, `${session.id}:echo`);
    const answer = t.hub.services.rpc.call(alice.ns, session.id, 'echo', { x: 1 });
    const [request, ack] = (await nextEventArgs(cli, 'rpc-request')) as [unknown, (response: string) => void];
    expect(request).toEqual({ method: `${session.id}:echo`, params: '{"x":1}' });
    ack(JSON.stringify({ echoed: { x: 1 } }));
    expect(await answer).toEqual({ echoed: { x: 1 } });
  });

  it('machine-scoped methods work the same way; CLI-side errors come back as values', async () => {
    const { alice, t } = world;
    const machine = await createMachine(alice.rest);
    const runner = await alice.connect({ machineId: machine.id });
    serve(runner, (method, params) =>
      method.endsWith(':path-exists')
        ? { exists: { [(params as { paths: string[] }).paths[0]!]: true } }
        : { error: 'Method not found' },
    );
    await register(runner, `${machine.id}:path-exists`);
    await register(runner, `${machine.id}:other`);
    expect(await t.hub.services.rpc.call(alice.ns, machine.id, 'path-exists', { paths: ['/tmp'] })).toEqual({
      exists: { '/tmp': true },
    });
    expect(await t.hub.services.rpc.call(alice.ns, machine.id, 'other', {})).toEqual({ error: 'Method not found' });
  });

  it('a non-JSON string answer is returned raw, a non-string answer as is', async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    const cli = await alice.connect({ sessionId: session.id });
    cli.on('rpc-request', (request: { method: string }, ack: (response: unknown) => void) => {
      ack(request.method.endsWith(':raw') ? 'not json' : { already: 'object' });
    });
    await register(cli, `${session.id}:raw`);
    await register(cli, `${session.id}:obj`);
    expect(await t.hub.services.rpc.call(alice.ns, session.id, 'raw', null)).toBe('not json');
    expect(await t.hub.services.rpc.call(alice.ns, session.id, 'obj', null)).toEqual({ already: 'object' });
  });

  it('last registration wins; disconnect unregisters (then: RPC handler not registered)', async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    const method = `${session.id}:echo`;
    const first = await alice.connect({ sessionId: session.id });
    const second = await alice.connect({ sessionId: session.id });
    const firstSeen = serve(first, () => 'first');
    const secondSeen = serve(second, () => 'second');
    await register(first, method);
    expect(await t.hub.services.rpc.call(alice.ns, session.id, 'echo', {})).toBe('first');
    await register(second, method);
    expect(await t.hub.services.rpc.call(alice.ns, session.id, 'echo', { n: 2 })).toBe('second');
    expect(firstSeen.map((r) => r.params)).toEqual(['{}']);
    expect(secondSeen.map((r) => r.params)).toEqual(['{"n":2}']);

    second.disconnect();
    await vi.waitFor(async () => expect(await t.engine.rpcRoutes.get(alice.ns, method)).toBeNull(), {
      timeout: 5_000,
      interval: 5,
    });
    const failure = await t.hub.services.rpc.call(alice.ns, session.id, 'echo', {}).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RpcTargetMissingError);
    expect((failure as Error).message).toBe(`RPC handler not registered: ${method}`);
    // The first socket's old registration was superseded, not restored.
    expect(firstSeen).toHaveLength(1);
  });

  it('a route to a socket that is gone → RpcTargetMissingError "RPC socket disconnected", without waiting for the timeout', async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    await t.engine.rpcRoutes.set(alice.ns, `${session.id}:stale`, 'socket-of-a-dead-worker');
    const failure = await t.hub.services.rpc
      .call(alice.ns, session.id, 'stale', {}, 20_000)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RpcTargetMissingError);
    expect(failure).toMatchObject({
      reason: 'socket-disconnected',
      code: 'rpc_target_missing',
      message: `RPC socket disconnected: ${session.id}:stale`,
    });
  }, 5_000); // far below the call's 20 s timeout

  it("rpc-unregister removes the caller's own route only", async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    const method = `${session.id}:abort`;
    const owner = await alice.connect({ sessionId: session.id });
    const other = await alice.connect({ sessionId: session.id });
    serve(owner, () => ({ ok: true }));
    await register(owner, method);
    other.emit('rpc-unregister', { method });
    await pingBarrier(other);
    expect(await t.hub.services.rpc.call(alice.ns, session.id, 'abort', {})).toEqual({ ok: true });
    owner.emit('rpc-unregister', { method });
    await pingBarrier(owner);
    await expect(t.hub.services.rpc.call(alice.ns, session.id, 'abort', {})).rejects.toThrow(
      `RPC handler not registered: ${method}`,
    );
  });

  it('no answer within timeoutMs → RpcTimeoutError', async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    const cli = await alice.connect({ sessionId: session.id });
    await register(cli, `${session.id}:slow`); // never answers
    const failure = await t.hub.services.rpc
      .call(alice.ns, session.id, 'slow', {}, 150)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RpcTimeoutError);
    expect((failure as RpcTimeoutError).code).toBe('rpc_timeout');
    expect(pendingEvents(cli, 'rpc-request', (r) => (r as RpcRequest).method === `${session.id}:slow`)).toHaveLength(1);
  });

  it("rpc-register of another namespace's session id → error access-denied; calls still go to the owner", async () => {
    const { alice, bob, t } = world;
    const session = await createSession(alice.rest);
    const method = `${session.id}:permission`;
    const owner = await alice.connect({ sessionId: session.id });
    const ownerSeen = serve(owner, () => ({ ok: 'owner' }));
    await register(owner, method);
    // Even naming alice's session in the handshake: in bob's namespace it is a session bob does not have.
    for (const thief of [await bob.connect(), await bob.connect({ sessionId: session.id })]) {
      const thiefSeen = serve(thief, () => ({ ok: 'thief' }));
      thief.emit('rpc-register', { method });
      expect(await nextEvent(thief, 'error')).toMatchObject({ scope: 'session', id: session.id });
      expect(await t.hub.services.rpc.call(alice.ns, session.id, 'permission', { id: 'r1', approved: true })).toEqual({
        ok: 'owner',
      });
      expect(thiefSeen).toHaveLength(0);
      expect(await t.engine.rpcRoutes.get(bob.ns, method)).toBeNull();
    }
    expect(ownerSeen).toHaveLength(2);
  });

  it('a foreign method that nobody owns stays unregistered', async () => {
    const { alice, bob, t } = world;
    const session = await createSession(alice.rest);
    const thief = await bob.connect();
    thief.emit('rpc-register', { method: `${session.id}:abort` });
    expect(await nextEvent(thief, 'error')).toMatchObject({ code: 'access-denied', scope: 'session', id: session.id });
    await expect(t.hub.services.rpc.call(alice.ns, session.id, 'abort', {})).rejects.toBeInstanceOf(
      RpcTargetMissingError,
    );
  });

  it("methods without an <id>: prefix, or not under the socket's own id, are refused with access-denied", async () => {
    const { alice, t } = world;
    const cli = await alice.connect();
    cli.emit('rpc-register', { method: 'no-prefix' });
    expect(await nextEvent(cli, 'error')).toEqual({
      message: 'session access denied',
      code: 'access-denied',
      scope: 'session',
      id: 'no-prefix',
    });
    cli.emit('rpc-register', { method: 'unknown-id:abort' });
    expect(await nextEvent(cli, 'error')).toEqual({
      message: 'session access denied',
      code: 'access-denied',
      scope: 'session',
      id: 'unknown-id',
    });
    expect(await t.engine.rpcRoutes.get(alice.ns, 'unknown-id:abort')).toBeNull();
  });
});
