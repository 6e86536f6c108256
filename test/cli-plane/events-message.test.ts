// `message` (CLI → hub): storage, fan-out to the room (not the sender), access errors.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CliMessageSchema } from '../../src/protocol/models.js';
import { SocketErrorSchema, UpdateEnvelopeSchema } from '../../src/protocol/socket-events.js';
import { isNewMessage, nextEvent, pendingEvents, pingBarrier } from '../helpers/cli-client.js';
import { createSession, fetchAllMessages } from '../helpers/fixtures.js';
import { useCliWorld } from './world.js';

const world = useCliWorld();

const agentOutput = (text: string) => ({
  role: 'agent',
  content: { type: 'output', data: { type: 'assistant', text } },
  meta: { sentFrom: 'cli' },
});

describe('message', () => {
  it('is stored and reaches the other sockets of the room as update/new-message, not the sender', async () => {
    const { alice } = world;
    const session = await createSession(alice.rest);
    const sender = await alice.connect({ sessionId: session.id });
    const peer = await alice.connect({ sessionId: session.id });
    await pingBarrier(peer);
    const before = world.t.clock.now;

    sender.emit('message', { sid: session.id, message: agentOutput('hello') });
    const update = UpdateEnvelopeSchema.parse(await nextEvent(peer, 'update', isNewMessage(session.id)));

    const [stored] = await fetchAllMessages(alice.rest, session.id);
    expect(stored).toEqual({
      id: expect.any(String),
      seq: 1,
      createdAt: before,
      localId: null,
      content: agentOutput('hello'),
    });
    expect(update).toEqual({
      id: expect.any(String),
      seq: 1,
      createdAt: expect.any(Number),
      body: { t: 'new-message', sid: session.id, message: stored },
    });
    expect(CliMessageSchema.parse(update.body.t === 'new-message' ? update.body.message : null)).toEqual(stored);

    await pingBarrier(sender);
    expect(pendingEvents(sender, 'update')).toEqual([]);
  });

  it('a sender that is not in the room still stores; room members get it', async () => {
    const { alice } = world;
    const session = await createSession(alice.rest);
    const sender = await alice.connect();
    const peer = await alice.connect({ sessionId: session.id });
    await pingBarrier(peer);
    sender.emit('message', { sid: session.id, message: agentOutput('one') });
    sender.emit('message', { sid: session.id, message: agentOutput('two') });
    const first = UpdateEnvelopeSchema.parse(await nextEvent(peer, 'update', isNewMessage(session.id)));
    const second = UpdateEnvelopeSchema.parse(await nextEvent(peer, 'update', isNewMessage(session.id)));
    expect([first.seq, second.seq]).toEqual([1, 2]);
    expect((await fetchAllMessages(alice.rest, session.id)).map((m) => m.content)).toEqual([
      agentOutput('one'),
      agentOutput('two'),
    ]);
  });

  it('a JSON string message is parsed; a non-JSON string is kept as is', async () => {
    const { alice } = world;
    const session = await createSession(alice.rest);
    const sender = await alice.connect();
    sender.emit('message', { sid: session.id, message: JSON.stringify(agentOutput('as string')) });
    sender.emit('message', { sid: session.id, message: 'plain text, not JSON' });
    await pingBarrier(sender);
    const messages = await fetchAllMessages(alice.rest, session.id);
    expect(messages.map((m) => m.content)).toEqual([agentOutput('as string'), 'plain text, not JSON']);
  });

  it('keeps localId, clamps a future createdAt to now and keeps a past one', async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    const sender = await alice.connect();
    const now = t.clock.now;
    sender.emit('message', {
      sid: session.id,
      message: agentOutput('future'),
      localId: 'local-1',
      createdAt: now + 60_000,
    });
    sender.emit('message', { sid: session.id, message: agentOutput('past'), createdAt: now - 5_000 });
    await pingBarrier(sender);
    const messages = await fetchAllMessages(alice.rest, session.id);
    expect(messages.map((m) => ({ seq: m.seq, localId: m.localId, createdAt: m.createdAt }))).toEqual([
      { seq: 1, localId: 'local-1', createdAt: now },
      { seq: 2, localId: null, createdAt: now - 5_000 },
    ]);
  });

  it('a repeated localId is stored once (the existing row is re-announced)', async () => {
    const { alice } = world;
    const session = await createSession(alice.rest);
    const sender = await alice.connect();
    const peer = await alice.connect({ sessionId: session.id });
    await pingBarrier(peer);
    sender.emit('message', { sid: session.id, message: agentOutput('first'), localId: 'dup' });
    sender.emit('message', { sid: session.id, message: agentOutput('second'), localId: 'dup' });
    const a = UpdateEnvelopeSchema.parse(await nextEvent(peer, 'update', isNewMessage(session.id)));
    const b = UpdateEnvelopeSchema.parse(await nextEvent(peer, 'update', isNewMessage(session.id)));
    const messages = await fetchAllMessages(alice.rest, session.id);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ seq: 1, localId: 'dup', content: agentOutput('first') });
    expect(a.body).toEqual(b.body);
  });

  it('an unknown sid → error not-found, nothing stored', async () => {
    const { alice } = world;
    const sender = await alice.connect();
    const sid = randomUUID();
    sender.emit('message', { sid, message: agentOutput('lost') });
    const error = SocketErrorSchema.parse(await nextEvent(sender, 'error'));
    expect(error).toEqual({ message: 'session not found', code: 'not-found', scope: 'session', id: sid });
    expect((await alice.rest.getSession(sid)).status).toBe(404);
  });

  it("another namespace's sid → error access-denied, nothing stored, nobody in the room hears it", async () => {
    const { alice, bob } = world;
    const session = await createSession(alice.rest);
    const owner = await alice.connect({ sessionId: session.id });
    await pingBarrier(owner);
    const intruder = await bob.connect();
    intruder.emit('message', { sid: session.id, message: agentOutput('injected') });
    expect(await nextEvent(intruder, 'error')).toEqual({
      message: 'session not found',
      code: 'not-found',
      scope: 'session',
      id: session.id,
    });
    expect(await fetchAllMessages(alice.rest, session.id)).toEqual([]);
    await pingBarrier(owner);
    expect(pendingEvents(owner, 'update')).toEqual([]);
  });
});
