// Web prompts reach the CLI as update/new-message; queued ones are re-sent on attach and on
// every keep-alive until the CLI reports them consumed.
import { describe, expect, it } from 'vitest';
import { UpdateEnvelopeSchema } from '../../src/protocol/socket-events.js';
import { isNewMessage, nextEvent, pendingEvents, pingBarrier } from '../helpers/cli-client.js';
import { createSession } from '../helpers/fixtures.js';
import { useCliWorld } from './world.js';

const world = useCliWorld();

const webPrompt = (text: string) => ({
  role: 'user',
  content: { type: 'text', text },
  meta: { sentFrom: 'webapp', deliveryMode: 'queue' },
});

describe('queued web prompts', () => {
  it('are re-sent on attach and on each session-alive until messages-consumed', async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    const row = await t.hub.services.messages.sendFromWeb(alice.ns, session.id, { text: 'hi', localId: 'l1' });
    expect(row).not.toBeNull();

    const cli = await alice.connect({ sessionId: session.id });
    const onAttach = UpdateEnvelopeSchema.parse(await nextEvent(cli, 'update', isNewMessage(session.id, 'l1')));
    expect(onAttach).toEqual({
      id: row!.id,
      seq: 1,
      createdAt: t.clock.now,
      body: {
        t: 'new-message',
        sid: session.id,
        message: { id: row!.id, seq: 1, createdAt: t.clock.now, localId: 'l1', content: webPrompt('hi') },
      },
    });

    for (let beat = 0; beat < 3; beat += 1) {
      t.clock.advance(2_000);
      cli.emit('session-alive', { sid: session.id, time: t.clock.now, thinking: false });
      const again = UpdateEnvelopeSchema.parse(await nextEvent(cli, 'update', isNewMessage(session.id, 'l1')));
      expect(again).toEqual(onAttach); // same message id: the CLI de-duplicates
    }

    cli.emit('messages-consumed', { sid: session.id, localIds: ['l1'] });
    cli.emit('session-alive', { sid: session.id, time: t.clock.now, thinking: false });
    await pingBarrier(cli);
    expect(pendingEvents(cli, 'update')).toEqual([]);

    // A re-attaching CLI does not get it either.
    const reattached = await alice.connect({ sessionId: session.id });
    await pingBarrier(reattached);
    expect(pendingEvents(reattached, 'update')).toEqual([]);
  });

  it('a prompt sent while the CLI is attached arrives live, then again on keep-alive', async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    const cli = await alice.connect({ sessionId: session.id });
    await pingBarrier(cli);
    const row = await t.hub.services.messages.sendFromWeb(alice.ns, session.id, { text: 'live', localId: 'l2' });
    const live = UpdateEnvelopeSchema.parse(await nextEvent(cli, 'update', isNewMessage(session.id, 'l2')));
    expect(live.id).toBe(row!.id);
    expect(live.body).toMatchObject({ message: { content: webPrompt('live'), localId: 'l2', seq: 1 } });
    cli.emit('session-alive', { sid: session.id, time: t.clock.now, thinking: false });
    expect(UpdateEnvelopeSchema.parse(await nextEvent(cli, 'update', isNewMessage(session.id, 'l2')))).toEqual(live);
  });

  it('several queued prompts are re-sent in seq order; only unconsumed ones keep coming', async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    for (const id of ['a', 'b', 'c'])
      await t.hub.services.messages.sendFromWeb(alice.ns, session.id, { text: id, localId: id });
    const cli = await alice.connect({ sessionId: session.id });
    const attached = [];
    for (let i = 0; i < 3; i += 1)
      attached.push(UpdateEnvelopeSchema.parse(await nextEvent(cli, 'update', isNewMessage(session.id))));
    expect(attached.map((u) => [u.seq, u.body.t === 'new-message' ? u.body.message.localId : null])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
    cli.emit('messages-consumed', { sid: session.id, localIds: ['a', 'c'] });
    cli.emit('session-alive', { sid: session.id, time: t.clock.now, thinking: false });
    await pingBarrier(cli);
    expect(pendingEvents(cli, 'update').map((u) => UpdateEnvelopeSchema.parse(u).seq)).toEqual([2]);
  });

  it('prompts never reach a socket of another namespace naming the session', async () => {
    const { alice, bob, t } = world;
    const session = await createSession(alice.rest);
    await t.hub.services.messages.sendFromWeb(alice.ns, session.id, { text: 'secret', localId: 's1' });
    const intruder = await bob.connect({ sessionId: session.id });
    intruder.emit('session-alive', { sid: session.id, time: t.clock.now, thinking: false });
    expect(await nextEvent(intruder, 'error')).toMatchObject({ code: 'not-found' });
    await pingBarrier(intruder);
    expect(pendingEvents(intruder, 'update')).toEqual([]);
  });
});
