// The seed document (seed/socket-overview.txt) run against the hub in trust mode: its connection
// example, heartbeats, ping and documented error codes; plus a polling-only client.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { SocketErrorSchema, UpdateEnvelopeSchema } from '../../src/protocol/socket-events.js';
import { systemClock } from '../../src/services/clock.js';
import { cliRest, connectCli, emitAck, isNewMessage, nextEvent, pingBarrier } from '../helpers/cli-client.js';
import { createMachine, createSession, fetchAllMessages, fetchMachine, fetchSession } from '../helpers/fixtures.js';
import { useCliWorld } from './world.js';

// Seed clients send Date.now() timestamps: run this hub on the wall clock.
const world = useCliWorld({ namespaceAuth: 'trust', clock: systemClock });

/** The seed's example, verbatim apart from the URL and ids (and forceNew / no reconnection for test hygiene). */
function seedSocket(
  url: string,
  auth: Record<string, unknown>,
  transports: ('websocket' | 'polling')[] = ['websocket', 'polling'],
): Socket {
  return io(`${url}/cli`, { auth, transports, forceNew: true, reconnection: false });
}

function seen(socket: Socket) {
  const errors: unknown[] = [];
  const updates: unknown[] = [];
  socket.on('error', (data: unknown) => errors.push(data));
  socket.on('update', (data: unknown) => updates.push(data));
  return { errors, updates };
}

const once = <T>(socket: Socket, event: string): Promise<T> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within 5 s`)), 5_000);
    socket.once(event, (value: T) => {
      clearTimeout(timer);
      resolve(value);
    });
  });

const pong = (socket: Socket): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no pong within 5 s')), 5_000);
    socket.emit('ping', () => {
      clearTimeout(timer);
      resolve();
    });
  });

describe('seed document', () => {
  it('connection example (sessionId, machineId, namespace default; websocket + polling) connects; heartbeats activate; ping pongs', async () => {
    const { t } = world;
    const rest = cliRest(t.url, t.token); // the default namespace
    const sessionId = randomUUID();
    const machineId = `machine_${randomUUID().slice(0, 8)}`;
    const socket = seedSocket(t.url, { sessionId, machineId, namespace: 'default' });
    const log = seen(socket);
    try {
      await once(socket, 'connect');
      expect(socket.connected).toBe(true);
      expect(typeof socket.id).toBe('string');
      await pong(socket);

      // The objects come into existence (as the real CLI does over REST)…
      await createSession(rest, { id: sessionId });
      await createMachine(rest, { id: machineId });

      // …and the seed's heartbeat payloads make them active.
      socket.emit('session-alive', {
        sid: sessionId,
        time: Date.now(),
        thinking: false,
        mode: 'remote',
        permissionMode: 'default',
      });
      socket.emit('machine-alive', { machineId, time: Date.now() });
      await pong(socket);
      expect(await fetchSession(rest, sessionId)).toMatchObject({
        active: true,
        thinking: false,
        permissionMode: 'default',
      });
      expect((await fetchMachine(rest, machineId)).active).toBe(true);
      expect(log.errors).toEqual([]);

      // The heartbeats also joined the rooms named in the handshake.
      const writer = await connectCli(t.url, { token: t.token });
      await emitAck(writer, 'update-metadata', {
        sid: sessionId,
        expectedVersion: 1,
        metadata: { path: '/seed', host: 'h' },
      });
      await emitAck(writer, 'machine-update-state', {
        machineId,
        expectedVersion: 1,
        runnerState: { status: 'running' },
      });
      writer.close();
      await pong(socket);
      expect(log.updates.map((u) => UpdateEnvelopeSchema.parse(u).body.t).sort()).toEqual([
        'update-machine',
        'update-session',
      ]);
    } finally {
      socket.close();
    }
  });

  it('the typed example (no transports option) connects too', async () => {
    const socket = io(`${world.t.url}/cli`, {
      auth: { sessionId: randomUUID(), machineId: 'machine_xyz', namespace: 'default' },
      forceNew: true,
      reconnection: false,
    });
    try {
      await once(socket, 'connect');
      await pong(socket);
    } finally {
      socket.close();
    }
  });

  it("error code namespace-missing: auth without a namespace → error event, then 'io server disconnect'", async () => {
    const socket = seedSocket(world.t.url, { sessionId: 'abc123', machineId: 'machine_xyz' });
    const log = seen(socket);
    try {
      const reason = await once<string>(socket, 'disconnect');
      expect(reason).toBe('io server disconnect');
      expect(log.errors).toEqual([{ message: 'Namespace missing', code: 'namespace-missing' }]);
    } finally {
      socket.close();
    }
  });

  it('error code not-found: an object of another namespace is one this namespace does not have (events)', async () => {
    const { t } = world;
    const otherNs = `other-${randomUUID().slice(0, 8)}`;
    const foreign = cliRest(t.url, t.tokenFor(otherNs)); // also registers the namespace
    const session = await createSession(foreign);
    const machine = await createMachine(foreign);
    const socket = seedSocket(t.url, { sessionId: session.id, machineId: machine.id, namespace: 'default' });
    const log = seen(socket);
    try {
      await once(socket, 'connect');
      socket.emit('session-alive', {
        sid: session.id,
        time: Date.now(),
        thinking: false,
        mode: 'remote',
        permissionMode: 'default',
      });
      socket.emit('machine-alive', { machineId: machine.id, time: Date.now() });
      await pong(socket);
      const errors = log.errors.map((e) => SocketErrorSchema.parse(e));
      // The handshake names ids this namespace does not have yet: no error there (they may come later).
      expect(errors).toEqual([
        { message: 'session not found', code: 'not-found', scope: 'session', id: session.id },
        { message: 'machine not found', code: 'not-found', scope: 'machine', id: machine.id },
      ]);
      expect((await fetchSession(foreign, session.id)).active).toBe(false);
      expect((await fetchMachine(foreign, machine.id)).active).toBe(false);
    } finally {
      socket.close();
    }
  });

  it('error code not-found: a heartbeat for an object that does not exist', async () => {
    const socket = seedSocket(world.t.url, { namespace: 'default' });
    const log = seen(socket);
    try {
      await once(socket, 'connect');
      socket.emit('session-alive', {
        sid: 'abc123',
        time: Date.now(),
        thinking: false,
        mode: 'remote',
        permissionMode: 'default',
      });
      socket.emit('machine-alive', { machineId: 'machine_xyz', time: Date.now() });
      await pong(socket);
      expect(log.errors).toEqual([
        { message: 'session not found', code: 'not-found', scope: 'session', id: 'abc123' },
        { message: 'machine not found', code: 'not-found', scope: 'machine', id: 'machine_xyz' },
      ]);
    } finally {
      socket.close();
    }
  });

  it("trust mode refuses a namespace that isn't registered", async () => {
    const socket = seedSocket(world.t.url, { namespace: `nobody-${randomUUID().slice(0, 8)}` });
    try {
      const error = await once<Error & { data?: { code?: string } }>(socket, 'connect_error');
      expect(error.data?.code).toBe('not-found');
    } finally {
      socket.close();
    }
  });
});

describe('polling-only client', () => {
  it('does a full message round-trip over long-polling', async () => {
    const { t, alice } = world;
    const session = await createSession(alice.rest);
    const poller = await alice.connect({ sessionId: session.id }, { transports: ['polling'] });
    expect(poller.io.engine.transport.name).toBe('polling');
    const ws = await alice.connect({ sessionId: session.id });
    await Promise.all([pingBarrier(poller), pingBarrier(ws)]);

    // polling → hub → websocket peer
    poller.emit('message', {
      sid: session.id,
      message: { role: 'agent', content: { type: 'output', data: 'from polling' } },
    });
    const toWs = UpdateEnvelopeSchema.parse(await nextEvent(ws, 'update', isNewMessage(session.id)));
    expect(toWs.body).toMatchObject({ message: { seq: 1, content: { content: { data: 'from polling' } } } });

    // websocket peer → hub → polling
    ws.emit('message', {
      sid: session.id,
      message: { role: 'agent', content: { type: 'output', data: 'to polling' } },
    });
    const toPoller = UpdateEnvelopeSchema.parse(await nextEvent(poller, 'update', isNewMessage(session.id)));
    expect(toPoller.body).toMatchObject({ message: { seq: 2, content: { content: { data: 'to polling' } } } });

    // a web prompt, an ack-bearing write and keep-alive over polling
    await t.hub.services.messages.sendFromWeb(alice.ns, session.id, { text: 'prompt', localId: 'p1' });
    expect(
      UpdateEnvelopeSchema.parse(await nextEvent(poller, 'update', isNewMessage(session.id, 'p1'))).body,
    ).toMatchObject({ message: { localId: 'p1', seq: 3 } });
    expect(
      await emitAck(poller, 'update-metadata', {
        sid: session.id,
        expectedVersion: 1,
        metadata: { path: '/poll', host: 'h' },
      }),
    ).toMatchObject({ result: 'success', version: 2 });
    poller.emit('session-alive', { sid: session.id, time: Date.now(), thinking: true });
    poller.emit('messages-consumed', { sid: session.id, localIds: ['p1'] });
    await pingBarrier(poller);
    expect(await fetchSession(alice.rest, session.id)).toMatchObject({
      active: true,
      thinking: true,
      metadataVersion: 2,
    });
    expect((await fetchAllMessages(alice.rest, session.id)).map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(poller.io.engine.transport.name).toBe('polling');
  });
});
