// Tenant isolation: every event aimed at another namespace's session or machine is answered as for
// an id that does not exist (ids are per namespace) and changes nothing (checked over REST and in
// the engine afterwards).
import { describe, expect, it } from 'vitest';
import { emitAck, nextEvent, pendingEvents, pingBarrier } from '../helpers/cli-client.js';
import { createMachine, createSession, fetchAllMessages, fetchMachine, fetchSession } from '../helpers/fixtures.js';
import { useCliWorld } from './world.js';

const world = useCliWorld();

describe('cross-namespace attempts', () => {
  it('every event against a foreign session/machine is refused and changes nothing', async () => {
    const { alice, bob, t } = world;
    const session = await createSession(alice.rest, { agentState: { controlledByUser: false } });
    const machine = await createMachine(alice.rest, { runnerState: { status: 'offline' } });
    await t.hub.services.messages.sendFromWeb(alice.ns, session.id, { text: 'private prompt', localId: 'secret' });
    const before = {
      session: await fetchSession(alice.rest, session.id),
      machine: await fetchMachine(alice.rest, machine.id),
    };
    const owner = await alice.connect({ sessionId: session.id, machineId: machine.id });
    await nextEvent(owner, 'update'); // the queued prompt, replayed on attach
    const intruder = await bob.connect();
    const now = t.clock.now;

    const acks = {
      'update-metadata': await emitAck(intruder, 'update-metadata', {
        sid: session.id,
        expectedVersion: 1,
        metadata: { path: '/evil', host: 'x' },
      }),
      'update-state': await emitAck(intruder, 'update-state', {
        sid: session.id,
        expectedVersion: 1,
        agentState: { controlledByUser: true },
      }),
      'machine-update-metadata': await emitAck(intruder, 'machine-update-metadata', {
        machineId: machine.id,
        expectedVersion: 1,
        metadata: { host: 'evil', platform: 'x', happyCliVersion: 'x' },
      }),
      'machine-update-state': await emitAck(intruder, 'machine-update-state', {
        machineId: machine.id,
        expectedVersion: 1,
        runnerState: { status: 'running' },
      }),
    };
    for (const ack of Object.values(acks)) expect(ack).toEqual({ result: 'error', reason: 'not-found' });

    const sessionEvents: [string, unknown][] = [
      ['message', { sid: session.id, message: { role: 'user', content: { type: 'text', text: 'injected' } } }],
      ['session-alive', { sid: session.id, time: now, thinking: true, model: 'evil-model' }],
      ['session-end', { sid: session.id, time: now, reason: 'completed' }],
      ['session-ready', { sid: session.id, time: now }],
      ['messages-consumed', { sid: session.id, localIds: ['secret'] }],
    ];
    for (const [event, payload] of sessionEvents) {
      intruder.emit(event, payload);
      expect(await nextEvent(intruder, 'error'), event).toEqual({
        message: 'session not found',
        code: 'not-found',
        scope: 'session',
        id: session.id,
      });
    }
    intruder.emit('machine-alive', { machineId: machine.id, time: now });
    expect(await nextEvent(intruder, 'error')).toEqual({
      message: 'machine not found',
      code: 'not-found',
      scope: 'machine',
      id: machine.id,
    });
    // RPC methods are only accepted under the socket's own handshake id.
    intruder.emit('rpc-register', { method: `${session.id}:abort` });
    expect(await nextEvent(intruder, 'error')).toEqual({
      message: 'session access denied',
      code: 'access-denied',
      scope: 'session',
      id: session.id,
    });
    intruder.emit('rpc-register', { method: `${machine.id}:spawn-happy-session` });
    expect(await nextEvent(intruder, 'error')).toEqual({
      message: 'session access denied',
      code: 'access-denied',
      scope: 'session',
      id: machine.id,
    });
    // rpc-unregister of a foreign method is a no-op (it can only ever remove the caller's own routes)
    intruder.emit('rpc-unregister', { method: `${session.id}:abort` });
    await pingBarrier(intruder);
    expect(pendingEvents(intruder, 'error')).toEqual([]);

    // Nothing changed.
    const after = {
      session: await fetchSession(alice.rest, session.id),
      machine: await fetchMachine(alice.rest, machine.id),
    };
    expect(after).toEqual(before);
    expect(after.session).toMatchObject({
      active: false,
      thinking: false,
      metadataVersion: 1,
      agentStateVersion: 1,
      model: null,
    });
    expect(after.machine).toMatchObject({ active: false, metadataVersion: 1, runnerStateVersion: 1 });
    expect((await fetchAllMessages(alice.rest, session.id)).map((m) => m.localId)).toEqual(['secret']);
    expect((await t.engine.messages.queued(alice.ns, session.id)).map((m) => m.localId)).toEqual(['secret']);
    for (const ns of [alice.ns, bob.ns]) {
      expect(await t.engine.rpcRoutes.get(ns, `${session.id}:abort`)).toBeNull();
      expect(await t.engine.rpcRoutes.get(ns, `${machine.id}:spawn-happy-session`)).toBeNull();
    }
    // …and the owner's socket heard nothing of it.
    await pingBarrier(owner);
    expect(pendingEvents(owner, 'update')).toEqual([]);

    // Bob cannot read alice's objects over REST either: for bob they do not exist.
    expect(await bob.rest.getSession(session.id)).toMatchObject({ status: 404, body: { error: 'Session not found' } });
    expect(await bob.rest.getMessages(session.id)).toMatchObject({ status: 404, body: { error: 'Session not found' } });
    expect(await bob.rest.getMachine(machine.id)).toMatchObject({ status: 404, body: { error: 'Machine not found' } });
  });
});
