// Session events: update-metadata, update-state, session-alive, session-end, session-ready,
// messages-consumed — success and error paths with the exact ack / error shapes.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UpdateEnvelopeSchema } from '../../src/protocol/socket-events.js';
import {
  emitAck,
  emitAckArgs,
  isNewMessage,
  isUpdateSession,
  nextEvent,
  pendingEvents,
  pingBarrier,
} from '../helpers/cli-client.js';
import { createSession, fetchSession, sessionMetadata } from '../helpers/fixtures.js';
import { useCliWorld } from './world.js';

const world = useCliWorld();

describe('update-metadata', () => {
  it('success: acks the merged, stored value with version+1 (path/host/claudeSessionId carried forward)', async () => {
    const { alice } = world;
    const session = await createSession(alice.rest, {
      metadata: sessionMetadata({ claudeSessionId: 'claude-1', name: 'old' }),
    });
    const socket = await alice.connect({ sessionId: session.id });
    const ack = await emitAck(socket, 'update-metadata', {
      sid: session.id,
      expectedVersion: 1,
      metadata: { lifecycleState: 'archived', name: 'new' },
    });
    const merged = {
      lifecycleState: 'archived',
      name: 'new',
      path: '/work/project',
      host: 'test-host',
      flavor: 'claude',
      claudeSessionId: 'claude-1',
    };
    expect(ack).toEqual({ result: 'success', version: 2, metadata: merged });
    const stored = await fetchSession(alice.rest, session.id);
    expect(stored.metadataVersion).toBe(2);
    expect(stored.metadata).toEqual(merged);
  });

  it('explicit null deletes a carried key', async () => {
    const { alice } = world;
    const session = await createSession(alice.rest, { metadata: sessionMetadata({ claudeSessionId: 'claude-1' }) });
    const socket = await alice.connect();
    const ack = await emitAck(socket, 'update-metadata', {
      sid: session.id,
      expectedVersion: 1,
      metadata: { path: '/moved', claudeSessionId: null },
    });
    expect(ack).toEqual({
      result: 'success',
      version: 2,
      metadata: { path: '/moved', host: 'test-host', flavor: 'claude' },
    });
    expect((await fetchSession(alice.rest, session.id)).metadata).toEqual({
      path: '/moved',
      host: 'test-host',
      flavor: 'claude',
    });
  });

  it('the CLI cannot set hub-owned keys (supersededBySessionId)…', async () => {
    const { alice } = world;
    const session = await createSession(alice.rest);
    const socket = await alice.connect();
    const ack = await emitAck(socket, 'update-metadata', {
      sid: session.id,
      expectedVersion: 1,
      metadata: { ...sessionMetadata(), supersededBySessionId: 'hijack' },
    });
    expect(ack).toEqual({ result: 'success', version: 2, metadata: sessionMetadata() });
    expect((await fetchSession(alice.rest, session.id)).metadata).not.toHaveProperty('supersededBySessionId');
  });

  it('…also when the stored metadata is null', async () => {
    const { alice } = world;
    const session = await createSession(alice.rest, { metadata: null });
    const socket = await alice.connect();
    const ack = await emitAck(socket, 'update-metadata', {
      sid: session.id,
      expectedVersion: 1,
      metadata: { path: '/p', host: 'h', supersededBySessionId: 'hijack', opencodeClearOperation: {} },
    });
    expect(ack).toEqual({ result: 'success', version: 2, metadata: { path: '/p', host: 'h' } });
    expect((await fetchSession(alice.rest, session.id)).metadata).toEqual({ path: '/p', host: 'h' });
  });

  it('…nor clear them once the hub set them', async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    expect(
      await t.hub.services.sessions.writeMetadataFromHub(alice.ns, session.id, (prior) => ({
        ...prior,
        supersededBySessionId: 'successor',
      })),
    ).toBe('ok');
    const socket = await alice.connect();
    const ack = await emitAck(socket, 'update-metadata', {
      sid: session.id,
      expectedVersion: 2,
      metadata: { ...sessionMetadata(), supersededBySessionId: null },
    });
    expect(ack).toEqual({
      result: 'success',
      version: 3,
      metadata: { ...sessionMetadata(), supersededBySessionId: 'successor' },
    });
  });

  it('version mismatch → the stored version and value, nothing written', async () => {
    const { alice } = world;
    const session = await createSession(alice.rest);
    const socket = await alice.connect();
    expect(
      await emitAck(socket, 'update-metadata', {
        sid: session.id,
        expectedVersion: 7,
        metadata: { path: '/x', host: 'y' },
      }),
    ).toEqual({
      result: 'version-mismatch',
      version: 1,
      metadata: sessionMetadata(),
    });
    expect(
      await emitAck(socket, 'update-metadata', {
        sid: session.id,
        expectedVersion: 0,
        metadata: { path: '/x', host: 'y' },
      }),
    ).toMatchObject({ result: 'version-mismatch', version: 1 });
    const stored = await fetchSession(alice.rest, session.id);
    expect([stored.metadataVersion, stored.metadata]).toEqual([1, sessionMetadata()]);
  });

  it('others in the room get update-session; the sender does not', async () => {
    const { alice } = world;
    const session = await createSession(alice.rest);
    const sender = await alice.connect({ sessionId: session.id });
    const peer = await alice.connect({ sessionId: session.id });
    await pingBarrier(peer);
    const ack = await emitAck<{ metadata: unknown }>(sender, 'update-metadata', {
      sid: session.id,
      expectedVersion: 1,
      metadata: { name: 'n' },
    });
    const update = UpdateEnvelopeSchema.parse(await nextEvent(peer, 'update', isUpdateSession(session.id)));
    expect(update.body).toEqual({
      t: 'update-session',
      sid: session.id,
      metadata: { version: 2, value: ack.metadata },
      agentState: null,
    });
    await pingBarrier(sender);
    expect(pendingEvents(sender, 'update')).toEqual([]);
  });

  it('another namespace → {result:error, reason:access-denied}; unknown → not-found; nothing changes', async () => {
    const { alice, bob } = world;
    const session = await createSession(alice.rest);
    const intruder = await bob.connect();
    expect(
      await emitAck(intruder, 'update-metadata', {
        sid: session.id,
        expectedVersion: 1,
        metadata: { path: '/evil', host: 'h' },
      }),
    ).toEqual({ result: 'error', reason: 'not-found' });
    expect(
      await emitAck(intruder, 'update-metadata', {
        sid: randomUUID(),
        expectedVersion: 1,
        metadata: { path: '/evil', host: 'h' },
      }),
    ).toEqual({ result: 'error', reason: 'not-found' });
    const stored = await fetchSession(alice.rest, session.id);
    expect([stored.metadataVersion, stored.metadata]).toEqual([1, sessionMetadata()]);
  });

  it.each([
    ['no payload object', 'nope'],
    ['missing sid', { expectedVersion: 1, metadata: {} }],
    ['non-integer version', { sid: 's', expectedVersion: 1.5, metadata: {} }],
    ['string version', { sid: 's', expectedVersion: '1', metadata: {} }],
  ])('invalid payload (%s) → {result:error, reason:invalid-payload}', async (_label, payload) => {
    const socket = await world.alice.connect();
    expect(await emitAck(socket, 'update-metadata', payload)).toEqual({ result: 'error', reason: 'invalid-payload' });
  });
});

describe('update-state', () => {
  it('success: plain replace, version+1, fan-out to others', async () => {
    const { alice } = world;
    const session = await createSession(alice.rest, { agentState: { controlledByUser: true, requests: {} } });
    const sender = await alice.connect({ sessionId: session.id });
    const peer = await alice.connect({ sessionId: session.id });
    await pingBarrier(peer);
    const agentState = { requests: { r1: { tool: 'Bash', arguments: { command: 'ls' }, createdAt: 1 } } };
    expect(await emitAck(sender, 'update-state', { sid: session.id, expectedVersion: 1, agentState })).toEqual({
      result: 'success',
      version: 2,
      agentState,
    });
    const update = UpdateEnvelopeSchema.parse(await nextEvent(peer, 'update', isUpdateSession(session.id)));
    expect(update.body).toEqual({
      t: 'update-session',
      sid: session.id,
      metadata: null,
      agentState: { version: 2, value: agentState },
    });
    const stored = await fetchSession(alice.rest, session.id);
    expect([stored.agentStateVersion, stored.agentState]).toEqual([2, agentState]);
    await pingBarrier(sender);
    expect(pendingEvents(sender, 'update')).toEqual([]);
  });

  it('null clears the state', async () => {
    const { alice } = world;
    const session = await createSession(alice.rest, { agentState: { controlledByUser: false } });
    const socket = await alice.connect();
    expect(await emitAck(socket, 'update-state', { sid: session.id, expectedVersion: 1, agentState: null })).toEqual({
      result: 'success',
      version: 2,
      agentState: null,
    });
    expect((await fetchSession(alice.rest, session.id)).agentState).toBeNull();
  });

  it('mismatch, access-denied, not-found, invalid-payload', async () => {
    const { alice, bob } = world;
    const session = await createSession(alice.rest, { agentState: { controlledByUser: false } });
    const socket = await alice.connect();
    expect(await emitAck(socket, 'update-state', { sid: session.id, expectedVersion: 5, agentState: {} })).toEqual({
      result: 'version-mismatch',
      version: 1,
      agentState: { controlledByUser: false },
    });
    const intruder = await bob.connect();
    expect(await emitAck(intruder, 'update-state', { sid: session.id, expectedVersion: 1, agentState: {} })).toEqual({
      result: 'error',
      reason: 'not-found',
    });
    expect(await emitAck(intruder, 'update-state', { sid: randomUUID(), expectedVersion: 1, agentState: {} })).toEqual({
      result: 'error',
      reason: 'not-found',
    });
    expect(await emitAck(socket, 'update-state', { sid: session.id, agentState: {} })).toEqual({
      result: 'error',
      reason: 'invalid-payload',
    });
    const stored = await fetchSession(alice.rest, session.id);
    expect([stored.agentStateVersion, stored.agentState]).toEqual([1, { controlledByUser: false }]);
  });
});

describe('session-alive / session-end / session-ready', () => {
  it('session-alive makes the session active (GET /cli/sessions/:id active:true) with its runtime fields', async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    expect(session.active).toBe(false);
    const socket = await alice.connect({ sessionId: session.id });
    socket.emit('session-alive', {
      sid: session.id,
      time: t.clock.now,
      thinking: true,
      mode: 'remote',
      permissionMode: 'plan',
      model: 'opus',
    });
    await pingBarrier(socket);
    const stored = await fetchSession(alice.rest, session.id);
    expect(stored).toMatchObject({
      active: true,
      activeAt: t.clock.now,
      thinking: true,
      thinkingAt: t.clock.now,
      model: 'opus',
      permissionMode: 'plan',
    });
  });

  it('session-end makes it inactive again (and thinking false)', async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    const socket = await alice.connect({ sessionId: session.id });
    socket.emit('session-alive', { sid: session.id, time: t.clock.now, thinking: true });
    await pingBarrier(socket);
    expect((await fetchSession(alice.rest, session.id)).active).toBe(true);
    socket.emit('session-end', { sid: session.id, time: t.clock.now, reason: 'completed' });
    await pingBarrier(socket);
    expect(await fetchSession(alice.rest, session.id)).toMatchObject({ active: false, thinking: false });
  });

  it('session-end stamps queued web prompts consumed (except reason cleared)', async () => {
    const { alice, t } = world;
    const ended = await createSession(alice.rest);
    const cleared = await createSession(alice.rest);
    for (const s of [ended, cleared])
      await t.hub.services.messages.sendFromWeb(alice.ns, s.id, { text: 'queued', localId: `l-${s.id}` });
    const socket = await alice.connect();
    socket.emit('session-end', { sid: ended.id, time: t.clock.now, reason: 'terminated' });
    socket.emit('session-end', { sid: cleared.id, time: t.clock.now, reason: 'cleared' });
    await pingBarrier(socket);
    expect(await t.engine.messages.queued(alice.ns, ended.id)).toEqual([]);
    expect((await t.engine.messages.queued(alice.ns, cleared.id)).map((m) => m.localId)).toEqual([`l-${cleared.id}`]);
  });

  it.each(['session-alive', 'session-end', 'session-ready'])(
    '%s: another namespace → error access-denied, unknown → not-found; nothing changes',
    async (event) => {
      const { alice, bob, t } = world;
      const session = await createSession(alice.rest);
      const owner = await alice.connect();
      owner.emit('session-alive', { sid: session.id, time: t.clock.now, thinking: false });
      await pingBarrier(owner);
      const intruder = await bob.connect();
      intruder.emit(event, { sid: session.id, time: t.clock.now, thinking: true });
      expect(await nextEvent(intruder, 'error')).toEqual({
        message: 'session not found',
        code: 'not-found',
        scope: 'session',
        id: session.id,
      });
      const unknown = randomUUID();
      intruder.emit(event, { sid: unknown, time: t.clock.now, thinking: true });
      expect(await nextEvent(intruder, 'error')).toEqual({
        message: 'session not found',
        code: 'not-found',
        scope: 'session',
        id: unknown,
      });
      expect(await fetchSession(alice.rest, session.id)).toMatchObject({ active: true, thinking: false });
    },
  );

  it('session-ready for an id named in the handshake joins its room', async () => {
    const { alice, t } = world;
    const sid = randomUUID();
    const early = await alice.connect({ sessionId: sid });
    await pingBarrier(early);
    await createSession(alice.rest, { id: sid });
    early.emit('session-ready', { sid, time: t.clock.now });
    await pingBarrier(early);
    expect(pendingEvents(early, 'error')).toEqual([]);
    const writer = await alice.connect();
    await emitAck(writer, 'update-state', { sid, expectedVersion: 1, agentState: { controlledByUser: true } });
    const update = UpdateEnvelopeSchema.parse(await nextEvent(early, 'update', isUpdateSession(sid)));
    expect(update.body).toMatchObject({ t: 'update-session', sid, agentState: { version: 2 } });
  });
});

describe('messages-consumed', () => {
  it('stops the replay of consumed prompts; unconsumed ones keep coming', async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    await t.hub.services.messages.sendFromWeb(alice.ns, session.id, { text: 'one', localId: 'c1' });
    await t.hub.services.messages.sendFromWeb(alice.ns, session.id, { text: 'two', localId: 'c2' });
    const cli = await alice.connect({ sessionId: session.id });
    await nextEvent(cli, 'update', isNewMessage(session.id, 'c1'));
    await nextEvent(cli, 'update', isNewMessage(session.id, 'c2'));
    cli.emit('messages-consumed', { sid: session.id, localIds: ['c1'] });
    cli.emit('session-alive', { sid: session.id, time: t.clock.now, thinking: false });
    await pingBarrier(cli);
    expect(
      pendingEvents(cli, 'update').map((u) => (u as { body: { message: { localId: string } } }).body.message.localId),
    ).toEqual(['c2']);
    expect((await t.engine.messages.queued(alice.ns, session.id)).map((m) => m.localId)).toEqual(['c2']);
    const [consumed] = await t.engine.messages.byLocalIds(alice.ns, session.id, ['c1']);
    expect(consumed?.invokedAt).toBe(t.clock.now);
  });

  it('another namespace → error access-denied and nothing is consumed; an empty list is ignored', async () => {
    const { alice, bob, t } = world;
    const session = await createSession(alice.rest);
    await t.hub.services.messages.sendFromWeb(alice.ns, session.id, { text: 'mine', localId: 'keep' });
    const intruder = await bob.connect();
    intruder.emit('messages-consumed', { sid: session.id, localIds: ['keep'] });
    expect(await nextEvent(intruder, 'error')).toEqual({
      message: 'session not found',
      code: 'not-found',
      scope: 'session',
      id: session.id,
    });
    expect((await t.engine.messages.queued(alice.ns, session.id)).map((m) => m.localId)).toEqual(['keep']);
    const owner = await alice.connect();
    owner.emit('messages-consumed', { sid: session.id, localIds: [] });
    owner.emit('messages-consumed', { sid: session.id, localIds: [42, null] });
    await pingBarrier(owner);
    expect(pendingEvents(owner, 'error')).toEqual([]);
    expect((await t.engine.messages.queued(alice.ns, session.id)).map((m) => m.localId)).toEqual(['keep']);
  });
});

describe('ping', () => {
  it('is acked with no arguments', async () => {
    const socket = await world.alice.connect();
    expect(await emitAckArgs(socket, 'ping')).toEqual([]);
  });
});
