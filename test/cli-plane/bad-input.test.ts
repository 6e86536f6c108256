// Bad input to every /cli event: answered (invalid-payload ack or error event), changes nothing,
// and the worker keeps serving. Oversized packets are cut off without hurting anyone else.
import { describe, expect, it } from 'vitest';
import { SocketErrorSchema } from '../../src/protocol/socket-events.js';
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
import { createMachine, createSession, fetchAllMessages, fetchMachine, fetchSession } from '../helpers/fixtures.js';
import { startTestHub } from '../helpers/hub.js';
import { useCliWorld } from './world.js';

const world = useCliWorld();

const long = (n: number) => 'x'.repeat(n);

/** Payloads no event accepts. */
const junk: [string, unknown][] = [
  ['a number', 42],
  ['a string', 'hello'],
  ['null', null],
  ['an array', [1, 2, 3]],
  ['a boolean', true],
  ['an empty object', {}],
];

const ACKED = ['update-metadata', 'update-state', 'machine-update-metadata', 'machine-update-state'] as const;
const UNACKED = [
  'message',
  'session-alive',
  'session-end',
  'session-ready',
  'messages-consumed',
  'machine-alive',
  'rpc-register',
  'rpc-unregister',
] as const;

/** Wrong types and oversized strings, per event, aimed at real objects (sid / machineId filled in). */
function wrongShapes(event: string, sid: string, machineId: string): [string, unknown][] {
  const now = Date.now();
  switch (event) {
    case 'update-metadata':
      return [
        ['sid as number', { sid: 1, expectedVersion: 1, metadata: {} }],
        ['version as string', { sid, expectedVersion: '1', metadata: {} }],
        ['negative version', { sid, expectedVersion: -1, metadata: {} }],
        ['oversized sid', { sid: long(257), expectedVersion: 1, metadata: {} }],
        ['missing metadata (would wipe it)', { sid, expectedVersion: 1 }],
      ];
    case 'update-state':
      return [
        ['missing version', { sid, agentState: {} }],
        ['fractional version', { sid, expectedVersion: 1.5, agentState: {} }],
        ['empty sid', { sid: '', expectedVersion: 1, agentState: {} }],
      ];
    case 'machine-update-metadata':
      return [
        ['sid instead of machineId', { sid: machineId, expectedVersion: 1, metadata: {} }],
        ['oversized machineId', { machineId: long(10_000), expectedVersion: 1, metadata: {} }],
        ['missing metadata (would wipe it)', { machineId, expectedVersion: 1 }],
      ];
    case 'machine-update-state':
      return [
        ['version as null', { machineId, expectedVersion: null, runnerState: {} }],
        ['machineId as object', { machineId: { id: machineId }, expectedVersion: 1, runnerState: {} }],
      ];
    case 'message':
      return [
        ['missing message', { sid }],
        ['oversized localId', { sid, message: 'x', localId: long(257) }],
        ['createdAt as string', { sid, message: 'x', createdAt: 'yesterday' }],
        ['sid as array', { sid: [sid], message: 'x' }],
      ];
    case 'session-alive':
      return [
        ['time as string', { sid, time: String(now), thinking: false }],
        ['thinking as string', { sid, time: now, thinking: 'yes' }],
        ['unknown mode', { sid, time: now, mode: 'sideways' }],
        ['oversized model', { sid, time: now, model: long(257) }],
        ['oversized permissionMode', { sid, time: now, permissionMode: long(65) }],
      ];
    case 'session-end':
      return [
        ['unknown reason', { sid, time: now, reason: 'bored' }],
        ['missing time', { sid }],
      ];
    case 'session-ready':
      return [['time as boolean', { sid, time: true }]];
    case 'messages-consumed':
      return [
        ['localIds as string', { sid, localIds: 'l1' }],
        ['missing localIds', { sid }],
      ];
    case 'machine-alive':
      return [
        ['time as string', { machineId, time: 'now' }],
        ['oversized machineId', { machineId: long(257), time: now }],
      ];
    case 'rpc-register':
    case 'rpc-unregister':
      return [
        ['empty method', { method: '' }],
        ['oversized method', { method: `${sid}:${long(600)}` }],
        ['method as number', { method: 7 }],
      ];
    default:
      throw new Error(`no shapes for ${event}`);
  }
}

describe('bad input', () => {
  it('ack-bearing events answer {result:error, reason:invalid-payload} to every bad payload', async () => {
    const { alice } = world;
    const session = await createSession(alice.rest);
    const machine = await createMachine(alice.rest);
    const socket = await alice.connect({ sessionId: session.id, machineId: machine.id });
    for (const event of ACKED) {
      for (const [label, payload] of [...junk, ...wrongShapes(event, session.id, machine.id)]) {
        expect(await emitAck(socket, event, payload), `${event}: ${label}`).toEqual({
          result: 'error',
          reason: 'invalid-payload',
        });
      }
      // no payload at all: the ack function is the only argument
      expect(await emitAck(socket, event), `${event}: no payload`).toEqual({
        result: 'error',
        reason: 'invalid-payload',
      });
    }
    expect(await fetchSession(alice.rest, session.id)).toMatchObject({
      metadataVersion: 1,
      metadata: session.metadata,
      agentStateVersion: 1,
    });
    expect(await fetchMachine(alice.rest, machine.id)).toMatchObject({
      metadataVersion: 1,
      metadata: machine.metadata,
      runnerStateVersion: 1,
      active: false,
    });
  });

  it('ack-bearing events sent without an ack get an error event instead', async () => {
    const socket = await world.alice.connect();
    for (const event of ACKED) {
      socket.emit(event, 'garbage');
      expect(await nextEvent(socket, 'error'), event).toEqual({
        message: `Invalid ${event} payload`,
        code: 'invalid-payload',
        event,
      });
    }
  });

  it('events without an ack answer an error event {code:invalid-payload, event} to every bad payload', async () => {
    const { alice } = world;
    const session = await createSession(alice.rest);
    const machine = await createMachine(alice.rest);
    const socket = await alice.connect({ sessionId: session.id, machineId: machine.id });
    for (const event of UNACKED) {
      for (const [label, payload] of [...junk, ...wrongShapes(event, session.id, machine.id)]) {
        socket.emit(event, payload);
        const error = SocketErrorSchema.parse(await nextEvent(socket, 'error'));
        expect(error, `${event}: ${label}`).toEqual({
          message: `Invalid ${event} payload`,
          code: 'invalid-payload',
          event,
        });
      }
    }
    await pingBarrier(socket);
    expect(pendingEvents(socket, 'error')).toEqual([]);
    // Nothing changed.
    expect(await fetchSession(alice.rest, session.id)).toMatchObject({
      active: false,
      metadataVersion: 1,
      agentStateVersion: 1,
      model: null,
    });
    expect((await fetchMachine(alice.rest, machine.id)).active).toBe(false);
    expect(await fetchAllMessages(alice.rest, session.id)).toEqual([]);
    expect(await world.t.engine.rpcRoutes.get(alice.ns, `${session.id}:${long(600)}`)).toBeNull();
  });

  it('the worker keeps serving: the same socket and others work after the junk', async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    const socket = await alice.connect();
    for (const [, payload] of junk) {
      socket.emit('message', payload);
      socket.emit('update-metadata', payload, () => undefined);
    }
    socket.emit('unknown-event', { anything: true });
    socket.emit('message', { sid: session.id, message: { role: 'agent', content: 'ok' } });
    expect(
      await emitAck(socket, 'update-metadata', {
        sid: session.id,
        expectedVersion: 1,
        metadata: { path: '/ok', host: 'h' },
      }),
    ).toMatchObject({ result: 'success', version: 2 });
    socket.emit('session-alive', { sid: session.id, time: t.clock.now, thinking: false });
    await pingBarrier(socket);
    expect(socket.connected).toBe(true);
    expect((await fetchAllMessages(alice.rest, session.id)).map((m) => m.seq)).toEqual([1]);
    expect((await fetchSession(alice.rest, session.id)).active).toBe(true);
    const fresh = await alice.connect();
    await pingBarrier(fresh);
  });

  it('a handshake with a non-string or oversized token → "Invalid token"', async () => {
    const { t } = world;
    for (const token of [42, null, { base: t.token }, [t.token], long(2_000)]) {
      const error = await connectError(t.url, { token } as Record<string, unknown>);
      expect(error.message, JSON.stringify(token).slice(0, 40)).toBe('Invalid token');
    }
  });

  it('a handshake with other malformed fields is refused with code invalid-payload', async () => {
    const { t } = world;
    for (const auth of [
      { token: t.token, sessionId: long(300) },
      { token: t.token, machineId: 5 },
      { namespace: '' },
      { token: t.token, namespace: long(200) },
    ]) {
      const error = await connectError(t.url, auth as Record<string, unknown>);
      expect(error.message, JSON.stringify(auth).slice(0, 60)).toBe('Invalid handshake');
      expect(error.data?.code).toBe('invalid-payload');
    }
  });
});

describe('packet size limit', () => {
  it('a packet over maxHttpBufferSize drops that connection only; nothing is stored', async () => {
    const t = await startTestHub({ maxHttpBufferBytes: 64 * 1024 });
    try {
      const rest = cliRest(t.url, t.token);
      const session = await createSession(rest);
      const big = await connectCli(t.url, { token: t.token });
      const bystander = await connectCli(t.url, { token: t.token, sessionId: session.id });
      big.emit('message', { sid: session.id, message: long(128 * 1024) });
      expect(await disconnected(big)).toBe('transport close');
      await pingBarrier(bystander);
      expect(bystander.connected).toBe(true);
      expect(await fetchAllMessages(rest, session.id)).toEqual([]);
      const small = await connectCli(t.url, { token: t.token });
      small.emit('message', { sid: session.id, message: long(1024) });
      await pingBarrier(small);
      expect((await fetchAllMessages(rest, session.id)).map((m) => m.seq)).toEqual([1]);
      for (const socket of [big, bystander, small]) socket.close();
    } finally {
      await t.close();
    }
  });
});
