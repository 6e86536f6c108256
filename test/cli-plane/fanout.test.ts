// `update` fan-out: reaches the other sockets of the room, never the sender, never outsiders.
import { describe, expect, it } from 'vitest';
import { UpdateEnvelopeSchema } from '../../src/protocol/socket-events.js';
import { emitAck, isNewMessage, isUpdateMachine, nextEvent, pendingEvents, pingBarrier } from '../helpers/cli-client.js';
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
    expect(a.body).toMatchObject({ t: 'new-message', sid: session.id, message: { seq: 1, content: { role: 'agent', content: { type: 'output', data: 'x' } } } });

    await Promise.all([sender!, elsewhere, outsider].map(pingBarrier));
    expect(pendingEvents(sender!, 'update')).toEqual([]);
    expect(pendingEvents(elsewhere, 'update')).toEqual([]);
    expect(pendingEvents(outsider, 'update')).toEqual([]);
  });

  it('machine room: update-machine to the others, not the sender', async () => {
    const { alice } = world;
    const machine = await createMachine(alice.rest);
    const [sender, peerA, peerB] = await Promise.all([0, 1, 2].map(() => alice.connect({ machineId: machine.id })));
    const bystander = await alice.connect();
    await Promise.all([peerA!, peerB!].map(pingBarrier));
    const metadata = machineMetadata({ workspaceRoots: ['/w'] });
    expect(await emitAck(sender!, 'machine-update-metadata', { machineId: machine.id, expectedVersion: 1, metadata })).toMatchObject({ result: 'success', version: 2 });
    for (const peer of [peerA!, peerB!]) {
      const update = UpdateEnvelopeSchema.parse(await nextEvent(peer, 'update', isUpdateMachine(machine.id)));
      expect(update.body).toEqual({ t: 'update-machine', machineId: machine.id, metadata: { version: 2, value: metadata }, runnerState: null });
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
