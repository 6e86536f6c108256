// `update` fan-out: reaches the other sockets of the room, never the sender, never outsiders.
import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { UpdateEnvelopeSchema } from '../../src/protocol/socket-events.js';
import {
  emitAck,
  isNewMessage,
  isUpdateMachine,
  nextEvent,
  pendingEvents,
  pingBarrier,
} from '../helpers/cli-client.js';
import { createMachine, createSession, machineMetadata } from '../helpers/fixtures.js';
import { useCliWorld } from './world.js';

const world = useCliWorld();

describe('update fan-out', () => {
  it('session room: the others get it; the sender, non-members and other tenants do not', async () => {
    const { alice, bob } = world;
    const session = await createSession(alice.rest);
    const other = await createSession(alice.rest);
    const [sender, peerA, peerB] = await Promise.all([0, 1, 2].map(() => alice.connect({ sessionId: session.id })));
    const elsewhere = await alice.connect({ sessionId: other.id });
    const outsider = await bob.connect();
    await Promise.all([sender!, peerA!, peerB!, elsewhere].map(pingBarrier));

    sender!.emit('message', { sid: session.id, message: { role: 'agent', content: { type: 'output', data: 'x' } } });
    const a = UpdateEnvelopeSchema.parse(await nextEvent(peerA!, 'update', isNewMessage(session.id)));
    const b = UpdateEnvelopeSchema.parse(await nextEvent(peerB!, 'update', isNewMessage(session.id)));
    expect(a).toEqual(b);
    expect(a.body).toMatchObject({
      t: 'new-message',
      sid: session.id,
      message: { seq: 1, content: { role: 'agent', content: { type: 'output', data: 'x' } } },
    });

    await Promise.all([sender!, elsewhere, outsider].map(pingBarrier));
    expect(pendingEvents(sender!, 'update')).toEqual([]);
    expect(pendingEvents(elsewhere, 'update')).toEqual([]);
    expect(pendingEvents(outsider, 'update')).toEqual([]);
  });

  it('counts the sockets attached to a session (handshake and late joins), and uncounts them when they leave', async () => {
    const { alice } = world;
    const sid = randomUUID();
    // Named in its handshake before the session exists: joins on its first successful event.
    const early = await alice.connect({ sessionId: sid });
    await pingBarrier(early);
    await createSession(alice.rest, { id: sid });
    const attached = async (): Promise<number> => {
      const probe = await world.t.engine.messages.append(alice.ns, sid, {
        id: randomUUID(),
        content: 'probe',
        createdAt: Date.now(),
        invokedAt: Date.now(),
      });
      if (!probe.ok) throw new Error('probe append failed');
      return probe.attachedSockets;
    };
    expect(await attached()).toBe(0);
    const first = await alice.connect({ sessionId: sid });
    const second = await alice.connect({ sessionId: sid });
    const unnamed = await alice.connect();
    await Promise.all([first, second].map(pingBarrier));
    expect(await attached()).toBe(2);
    // A socket that did not name the session in its handshake never joins its room.
    unnamed.emit('session-alive', { sid, time: Date.now(), thinking: false });
    await pingBarrier(unnamed);
    expect(await attached()).toBe(2);
    early.emit('session-alive', { sid, time: Date.now(), thinking: false });
    await pingBarrier(early);
    expect(await attached()).toBe(3);

    second.close();
    await vi.waitFor(async () => expect(await attached()).toBe(2), { timeout: 5_000, interval: 20 });
    early.close();
    first.close();
    await vi.waitFor(async () => expect(await attached()).toBe(0), { timeout: 5_000, interval: 20 });
  });

  it('still delivers to a second socket that attaches after the sender was alone', async () => {
    const { alice } = world;
    const session = await createSession(alice.rest);
    const sender = await alice.connect({ sessionId: session.id });
    await pingBarrier(sender);
    // Alone in the room: the sender's own update reaches nobody (and is skipped).
    sender.emit('message', { sid: session.id, message: { role: 'agent', content: { type: 'output', data: 'alone' } } });
    await pingBarrier(sender);
    expect(pendingEvents(sender, 'update')).toEqual([]);

    const peer = await alice.connect({ sessionId: session.id });
    await pingBarrier(peer);
    sender.emit('message', {
      sid: session.id,
      message: { role: 'agent', content: { type: 'output', data: 'together' } },
    });
    const update = UpdateEnvelopeSchema.parse(await nextEvent(peer, 'update', isNewMessage(session.id)));
    expect(update.body).toMatchObject({
      t: 'new-message',
      message: { seq: 2, content: { role: 'agent', content: { type: 'output', data: 'together' } } },
    });

    peer.close();
    const again = await alice.connect({ sessionId: session.id });
    await pingBarrier(again);
    sender.emit('message', {
      sid: session.id,
      message: { role: 'agent', content: { type: 'output', data: 'after a reconnect' } },
    });
    const third = UpdateEnvelopeSchema.parse(await nextEvent(again, 'update', isNewMessage(session.id)));
    expect(third.body).toMatchObject({ message: { seq: 3 } });
    await pingBarrier(sender);
    expect(pendingEvents(sender, 'update')).toEqual([]);
  });

  it('machine room: update-machine to the others, not the sender', async () => {
    const { alice } = world;
    const machine = await createMachine(alice.rest);
    const [sender, peerA, peerB] = await Promise.all([0, 1, 2].map(() => alice.connect({ machineId: machine.id })));
    const bystander = await alice.connect();
    await Promise.all([peerA!, peerB!].map(pingBarrier));
    const metadata = machineMetadata({ workspaceRoots: ['/w'] });
    expect(
      await emitAck(sender!, 'machine-update-metadata', { machineId: machine.id, expectedVersion: 1, metadata }),
    ).toMatchObject({ result: 'success', version: 2 });
    for (const peer of [peerA!, peerB!]) {
      const update = UpdateEnvelopeSchema.parse(await nextEvent(peer, 'update', isUpdateMachine(machine.id)));
      expect(update.body).toEqual({
        t: 'update-machine',
        machineId: machine.id,
        metadata: { version: 2, value: metadata },
        runnerState: null,
      });
    }
    await Promise.all([sender!, bystander].map(pingBarrier));
    expect(pendingEvents(sender!, 'update')).toEqual([]);
    expect(pendingEvents(bystander, 'update')).toEqual([]);
  });

  it('hub-originated updates (web prompts) reach every member of the room', async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    const members = await Promise.all([0, 1, 2].map(() => alice.connect({ sessionId: session.id })));
    await Promise.all(members.map(pingBarrier));
    const row = await t.hub.services.messages.sendFromWeb(alice.ns, session.id, { text: 'to all' });
    for (const member of members) {
      const update = UpdateEnvelopeSchema.parse(await nextEvent(member, 'update', isNewMessage(session.id)));
      expect(update.id).toBe(row!.id);
    }
  });
});
