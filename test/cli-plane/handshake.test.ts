// /cli handshake: token grammar, namespace checks, the seed's token-less mode, per-namespace
// tokens, HAPI_GLOBAL_TOKEN=off.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { SocketErrorSchema } from '../../src/protocol/socket-events.js';
import { NamespaceAdmin } from '../../src/services/auth.js';
import {
  cliRest,
  connectCli,
  connectError,
  disconnected,
  emitAck,
  nextEvent,
  pendingEvents,
  pingBarrier,
} from '../helpers/cli-client.js';
import { createSession, uniqueNamespace } from '../helpers/fixtures.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

const sockets: Socket[] = [];
async function connect(t: TestHub, auth: Parameters<typeof connectCli>[1]): Promise<Socket> {
  const socket = await connectCli(t.url, auth);
  sockets.push(socket);
  return socket;
}
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

/** The namespace the hub assigned to this socket, read on the server side. */
function serverNamespace(t: TestHub, socket: Socket): string | undefined {
  const server = t.hub.io.of('/cli').sockets.get(socket.id ?? '');
  return (server?.data as { namespace?: string } | undefined)?.namespace;
}

/** Proves the socket's namespace by writing to a session that lives in `namespace`. */
async function canWriteSessionIn(t: TestHub, socket: Socket, namespace: string): Promise<boolean> {
  const session = await createSession(cliRest(t.url, t.tokenFor(namespace)));
  const ack = await emitAck<{ result: string }>(socket, 'update-metadata', {
    sid: session.id,
    expectedVersion: 1,
    metadata: { path: '/p', host: 'h' },
  });
  return ack.result === 'success';
}

describe('token mode (default)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t.close();
  });

  it('`base` opens the default namespace', async () => {
    const socket = await connect(t, { token: t.token });
    expect(serverNamespace(t, socket)).toBe('default');
    expect(await canWriteSessionIn(t, socket, 'default')).toBe(true);
    expect(await canWriteSessionIn(t, socket, 'alice')).toBe(false);
  });

  it('`base:alice` opens alice (and registers it)', async () => {
    const alice = uniqueNamespace('alice');
    const socket = await connect(t, { token: t.tokenFor(alice) });
    expect(serverNamespace(t, socket)).toBe(alice);
    expect((await t.engine.namespaces.get(alice))?.name).toBe(alice);
    expect(await canWriteSessionIn(t, socket, alice)).toBe(true);
    expect(await canWriteSessionIn(t, socket, 'default')).toBe(false);
  });

  it('the same namespace given next to the token is accepted', async () => {
    const socket = await connect(t, { token: t.tokenFor('bob'), namespace: 'bob' });
    expect(serverNamespace(t, socket)).toBe('bob');
  });

  it.each([
    ['a wrong base token', () => 'not-the-token'],
    ['a wrong base with a namespace', () => 'not-the-token:alice'],
    ['an empty namespace suffix', () => `${t.token}:`],
    ['an empty token', () => ''],
    ['a namespace with illegal characters', () => `${t.token}:a/b`],
  ])('%s → connect_error "Invalid token"', async (_label, token) => {
    const error = await connectError(t.url, { token: token() });
    expect(error.message).toBe('Invalid token');
  });

  it('a token with a different `namespace` → connect_error code access-denied', async () => {
    const error = await connectError(t.url, { token: t.tokenFor('alice'), namespace: 'bob' });
    expect(error.data?.code).toBe('access-denied');
    const plain = await connectError(t.url, { token: t.token, namespace: 'alice' });
    expect(plain.data?.code).toBe('access-denied');
  });

  it('token-less `{namespace}` without trust mode → "Invalid token"', async () => {
    const error = await connectError(t.url, { namespace: 'default' });
    expect(error.message).toBe('Invalid token');
  });

  it('neither token nor namespace → `error {Namespace missing}` then disconnected', async () => {
    const socket = await connect(t, {});
    const error = await nextEvent(socket, 'error');
    expect(error).toEqual({ message: 'Namespace missing', code: 'namespace-missing' });
    expect(SocketErrorSchema.parse(error)).toEqual(error);
    expect(await disconnected(socket)).toBe('io server disconnect');
  });

  it('no auth object at all behaves like an empty one', async () => {
    const socket = await connect(t, undefined);
    expect(await nextEvent(socket, 'error')).toEqual({ message: 'Namespace missing', code: 'namespace-missing' });
    expect(await disconnected(socket)).toBe('io server disconnect');
  });
});

describe('trust mode (HAPI_NAMESPACE_AUTH=trust)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ namespaceAuth: 'trust' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('token-less `{namespace}` of a registered namespace connects into it', async () => {
    const tenant = uniqueNamespace('trusted');
    await new NamespaceAdmin(t.engine, t.clock.fn).create(tenant);
    const socket = await connect(t, { namespace: tenant });
    expect(serverNamespace(t, socket)).toBe(tenant);
    expect(await canWriteSessionIn(t, socket, tenant)).toBe(true);
    const fallback = await connect(t, { namespace: 'default' });
    expect(serverNamespace(t, fallback)).toBe('default');
  });

  it('token-less `{namespace}` of an unregistered namespace → connect_error code not-found', async () => {
    const error = await connectError(t.url, { namespace: uniqueNamespace('ghost') });
    expect(error.data?.code).toBe('not-found');
  });

  it('token-less `{namespace}` of a revoked namespace is refused', async () => {
    const tenant = uniqueNamespace('revoked');
    const admin = new NamespaceAdmin(t.engine, t.clock.fn);
    await admin.create(tenant);
    await admin.revoke(tenant);
    const error = await connectError(t.url, { namespace: tenant });
    expect(error.message).toBe('Invalid token');
  });

  it('a token still wins over trust: a wrong token is refused', async () => {
    const error = await connectError(t.url, { token: 'wrong', namespace: 'default' });
    expect(error.message).toBe('Invalid token');
  });
});

describe('per-namespace tokens (NamespaceAdmin)', () => {
  let t: TestHub;
  let admin: NamespaceAdmin;
  beforeAll(async () => {
    t = await startTestHub();
    admin = new NamespaceAdmin(t.engine, t.clock.fn);
  });
  afterAll(async () => {
    await t.close();
  });

  it('opens only its own namespace', async () => {
    const tenant = uniqueNamespace('tenant');
    const { token } = await admin.create(tenant);
    const socket = await connect(t, { token: `${token}:${tenant}` });
    expect(serverNamespace(t, socket)).toBe(tenant);
    expect((await connectError(t.url, { token })).message).toBe('Invalid token');
    expect((await connectError(t.url, { token: `${token}:other` })).message).toBe('Invalid token');
    // and over REST
    expect((await cliRest(t.url, `${token}:${tenant}`).getSession('nope')).status).toBe(404);
    expect((await cliRest(t.url, token).getSession('nope')).status).toBe(401);
  });

  it('rotate invalidates the old token; the new one works', async () => {
    const tenant = uniqueNamespace('rotate');
    const first = await admin.create(tenant);
    const rotated = await admin.rotate(tenant);
    expect(rotated).not.toBeNull();
    expect(rotated!.token).not.toBe(first.token);
    expect((await connectError(t.url, { token: `${first.token}:${tenant}` })).message).toBe('Invalid token');
    const socket = await connect(t, { token: `${rotated!.token}:${tenant}` });
    expect(serverNamespace(t, socket)).toBe(tenant);
  });

  it('revoke refuses the namespace token and the hub token for that namespace', async () => {
    const tenant = uniqueNamespace('revoke');
    const { token } = await admin.create(tenant);
    await admin.revoke(tenant);
    expect((await connectError(t.url, { token: `${token}:${tenant}` })).message).toBe('Invalid token');
    expect((await connectError(t.url, { token: t.tokenFor(tenant) })).message).toBe('Invalid token');
    expect((await cliRest(t.url, `${token}:${tenant}`).getSession('x')).body).toEqual({ error: 'Invalid token' });
  });
});

describe('HAPI_GLOBAL_TOKEN=off', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ globalTokenEnabled: false });
  });
  afterAll(async () => {
    await t.close();
  });

  it('the hub token refuses tenant namespaces but still opens default', async () => {
    expect((await connectError(t.url, { token: t.tokenFor('alice') })).message).toBe('Invalid token');
    const socket = await connect(t, { token: t.token });
    expect(serverNamespace(t, socket)).toBe('default');
    const explicitDefault = await connect(t, { token: t.tokenFor('default') });
    expect(serverNamespace(t, explicitDefault)).toBe('default');
    expect((await cliRest(t.url, t.tokenFor('alice')).getSession('x')).status).toBe(401);
  });

  it('a namespace token still opens its namespace', async () => {
    const tenant = uniqueNamespace('hosted');
    const { token } = await new NamespaceAdmin(t.engine, t.clock.fn).create(tenant);
    const socket = await connect(t, { token: `${token}:${tenant}` });
    expect(serverNamespace(t, socket)).toBe(tenant);
  });
});

describe('sessionId / machineId in the handshake', () => {
  let t: TestHub;
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    t = await startTestHub();
    alice = uniqueNamespace('alice');
    bob = uniqueNamespace('bob');
  });
  afterAll(async () => {
    await t.close();
  });

  const isUpdateFor = (sid: string) => (u: unknown) =>
    (u as { body: { sid?: string; machineId?: string } }).body.sid === sid ||
    (u as { body: { machineId?: string } }).body.machineId === sid;

  it('an existing session of the socket namespace is joined', async () => {
    const session = await createSession(cliRest(t.url, t.tokenFor(alice)));
    const attached = await connect(t, { token: t.tokenFor(alice), sessionId: session.id });
    await pingBarrier(attached); // the handshake's joins happen before the ping is answered
    const writer = await connect(t, { token: t.tokenFor(alice) });
    const ack = await emitAck<{ result: string }>(writer, 'update-metadata', {
      sid: session.id,
      expectedVersion: 1,
      metadata: { path: '/x', host: 'h' },
    });
    expect(ack.result).toBe('success');
    const update = await nextEvent<{ body: unknown }>(attached, 'update', isUpdateFor(session.id));
    expect(update.body).toEqual({
      t: 'update-session',
      sid: session.id,
      metadata: { version: 2, value: { path: '/x', host: 'h', flavor: 'claude' } },
      agentState: null,
    }); // flavor carried forward
  });

  it('an existing machine of the socket namespace is joined', async () => {
    const rest = cliRest(t.url, t.tokenFor(alice));
    const machineId = `m-${uniqueNamespace()}`;
    expect(
      (await rest.createMachine({ id: machineId, metadata: { host: 'h', platform: 'linux', happyCliVersion: '1' } }))
        .status,
    ).toBe(200);
    const attached = await connect(t, { token: t.tokenFor(alice), machineId });
    await pingBarrier(attached);
    const writer = await connect(t, { token: t.tokenFor(alice) });
    const ack = await emitAck<{ result: string }>(writer, 'machine-update-state', {
      machineId,
      expectedVersion: 1,
      runnerState: { status: 'running' },
    });
    expect(ack.result).toBe('success');
    const update = await nextEvent<{ body: unknown }>(attached, 'update', isUpdateFor(machineId));
    expect(update.body).toEqual({
      t: 'update-machine',
      machineId,
      metadata: null,
      runnerState: { version: 2, value: { status: 'running' } },
    });
  });

  it('a session of another namespace is, for this one, an id not created yet: no error, no join', async () => {
    const session = await createSession(cliRest(t.url, t.tokenFor(alice)));
    const intruder = await connect(t, { token: t.tokenFor(bob), sessionId: session.id });
    await pingBarrier(intruder);
    expect(pendingEvents(intruder, 'error')).toEqual([]);
    const rightful = await connect(t, { token: t.tokenFor(alice), sessionId: session.id });
    await pingBarrier(rightful);
    const writer = await connect(t, { token: t.tokenFor(alice) });
    await emitAck(writer, 'update-metadata', {
      sid: session.id,
      expectedVersion: 1,
      metadata: { path: '/secret', host: 'h' },
    });
    await nextEvent(rightful, 'update', isUpdateFor(session.id));
    await pingBarrier(intruder);
    expect(pendingEvents(intruder, 'update')).toEqual([]);
  });

  it('a machine of another namespace is, for this one, an id not created yet: no error, no join', async () => {
    const machineId = `m-${uniqueNamespace()}`;
    expect((await cliRest(t.url, t.tokenFor(alice)).createMachine({ id: machineId, metadata: null })).status).toBe(200);
    const intruder = await connect(t, { token: t.tokenFor(bob), machineId });
    await pingBarrier(intruder);
    expect(pendingEvents(intruder, 'error')).toEqual([]);
    const rightful = await connect(t, { token: t.tokenFor(alice), machineId });
    await pingBarrier(rightful);
    const writer = await connect(t, { token: t.tokenFor(alice) });
    await emitAck(writer, 'machine-update-metadata', {
      machineId,
      expectedVersion: 1,
      metadata: { host: 'h', platform: 'p', happyCliVersion: 'v' },
    });
    await nextEvent(rightful, 'update', isUpdateFor(machineId));
    await pingBarrier(intruder);
    expect(pendingEvents(intruder, 'update')).toEqual([]);
  });

  it('a session that does not exist yet is joined after the first successful event for it', async () => {
    const rest = cliRest(t.url, t.tokenFor(alice));
    const sid = randomUUID();
    const early = await connect(t, { token: t.tokenFor(alice), sessionId: sid });
    await pingBarrier(early);
    expect(pendingEvents(early, 'error')).toEqual([]); // unknown ids are not an error: the session may come later
    const session = await createSession(rest, { id: sid });
    expect(session.id).toBe(sid);

    // Not joined yet: another socket's update does not reach it.
    const writer = await connect(t, { token: t.tokenFor(alice), sessionId: sid });
    await pingBarrier(writer);
    const watcher = await connect(t, { token: t.tokenFor(alice), sessionId: sid });
    await pingBarrier(watcher);
    expect(
      (
        await emitAck<{ result: string }>(writer, 'update-state', {
          sid,
          expectedVersion: 1,
          agentState: { controlledByUser: false },
        })
      ).result,
    ).toBe('success');
    await nextEvent(watcher, 'update', isUpdateFor(sid));
    await pingBarrier(early);
    expect(pendingEvents(early, 'update')).toEqual([]);

    // Its first successful event for the id joins it.
    const ack = await emitAck<{ result: string; version: number }>(early, 'update-metadata', {
      sid,
      expectedVersion: 1,
      metadata: { path: '/late', host: 'h' },
    });
    expect(ack).toMatchObject({ result: 'success', version: 2 });
    expect(
      (
        await emitAck<{ result: string }>(writer, 'update-state', {
          sid,
          expectedVersion: 2,
          agentState: { controlledByUser: true },
        })
      ).result,
    ).toBe('success');
    const update = await nextEvent<{ body: unknown }>(early, 'update', isUpdateFor(sid));
    expect(update.body).toEqual({
      t: 'update-session',
      sid,
      metadata: null,
      agentState: { version: 3, value: { controlledByUser: true } },
    });
  });

  it('a machine that does not exist yet is joined after the first successful event for it', async () => {
    const rest = cliRest(t.url, t.tokenFor(alice));
    const machineId = `m-${uniqueNamespace()}`;
    const early = await connect(t, { token: t.tokenFor(alice), machineId });
    await pingBarrier(early);
    expect(
      (await rest.createMachine({ id: machineId, metadata: { host: 'h', platform: 'p', happyCliVersion: 'v' } }))
        .status,
    ).toBe(200);
    const ack = await emitAck<{ result: string }>(early, 'machine-update-state', {
      machineId,
      expectedVersion: 1,
      runnerState: { status: 'running' },
    });
    expect(ack.result).toBe('success');
    const writer = await connect(t, { token: t.tokenFor(alice) });
    expect(
      (
        await emitAck<{ result: string }>(writer, 'machine-update-state', {
          machineId,
          expectedVersion: 2,
          runnerState: { status: 'shutting-down' },
        })
      ).result,
    ).toBe('success');
    const update = await nextEvent<{ body: unknown }>(early, 'update', isUpdateFor(machineId));
    expect(update.body).toEqual({
      t: 'update-machine',
      machineId,
      metadata: null,
      runnerState: { version: 3, value: { status: 'shutting-down' } },
    });
  });
});
