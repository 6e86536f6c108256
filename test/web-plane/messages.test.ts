// Messages: send (→ CLI update/new-message), consumption → queued-state, cancel, and upstream's
// pagination contract (latest with out-of-band queued rows, before, after/until, epoch reset).
import { describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { isNewMessage, nextEvent, pingBarrier } from '../helpers/cli-client.js';
import { openSse } from '../helpers/sse-client.js';
import { useWebWorld, type WebTenant } from '../helpers/web-world.js';

const world = useWebWorld();

interface WebMessage {
  id: string;
  seq: number;
  localId: string | null;
  content: unknown;
  createdAt: number;
  invokedAt: number | null;
  scheduledAt: number | null;
}

const messagesPath = (sid: string) => `/api/sessions/${sid}/messages`;

/** An agent message from the CLI (invoked on insert); waits until the hub stored it. */
async function agentMessage(socket: Socket, sid: string, text: string): Promise<void> {
  socket.emit('message', { sid, message: { role: 'agent', content: { type: 'output', data: text } } });
  await pingBarrier(socket);
}

async function sendPrompt(tenant: WebTenant, sid: string, text: string, localId?: string): Promise<void> {
  const response = await tenant.api.post(messagesPath(sid), { text, ...(localId ? { localId } : {}) });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  expect(response.body).toEqual({ ok: true });
}

describe('POST /api/sessions/:id/messages', () => {
  it('stores the upstream user envelope, pushes update/new-message to the CLI, and queued-state follows consumption', async () => {
    const { alice } = world;
    const { session, socket } = await alice.liveSession();
    const attachments = [{ id: 'a1', filename: 'x.png', mimeType: 'image/png', size: 3, path: '/tmp/x.png' }];
    await sendPrompt(alice, session.id, 'hello agent', 'local-1');
    const update = await nextEvent<{
      id: string;
      seq: number;
      body: { t: string; sid: string; message: { id: string; localId: string; content: unknown } };
    }>(socket, 'update', isNewMessage(session.id, 'local-1'));
    expect(update.body.message.content).toEqual({
      role: 'user',
      content: { type: 'text', text: 'hello agent' },
      meta: { sentFrom: 'webapp', deliveryMode: 'queue' },
    });
    expect(update.id).toBe(update.body.message.id);

    // Attachments without text are fine.
    const withAttachment = await alice.api.post(messagesPath(session.id), {
      text: '',
      attachments,
      localId: 'local-2',
    });
    expect(withAttachment.status).toBe(200);
    const second = await nextEvent<{ body: { message: { content: { content: unknown } } } }>(
      socket,
      'update',
      isNewMessage(session.id, 'local-2'),
    );
    expect(second.body.message.content.content).toEqual({ type: 'text', text: '', attachments });

    const state = await alice.api.post(`${messagesPath(session.id)}/queued-state`, {
      localIds: ['local-1', 'local-2', 'local-1', 'unknown'],
    });
    expect(state.status).toBe(200);
    expect(state.body).toEqual({
      queuedLocalIds: ['local-1', 'local-2'],
      indeterminateLocalIds: [],
      invokedLocalMessages: [],
    });

    world.t.clock.advance(10);
    socket.emit('messages-consumed', { sid: session.id, localIds: ['local-1'] });
    await pingBarrier(socket);
    const after = await alice.api.post(`${messagesPath(session.id)}/queued-state`, {
      localIds: ['local-1', 'local-2'],
    });
    expect(after.body).toEqual({
      queuedLocalIds: ['local-2'],
      indeterminateLocalIds: [],
      invokedLocalMessages: [{ localId: 'local-1', invokedAt: world.t.clock.now }],
    });
    expect((await alice.api.post(`${messagesPath(session.id)}/queued-state`, { localIds: [] })).body).toEqual({
      queuedLocalIds: [],
      indeterminateLocalIds: [],
      invokedLocalMessages: [],
    });
  });

  it('a duplicate localId stores nothing new; a prompt without localId is invoked at once', async () => {
    const { alice } = world;
    const { session } = await alice.liveSession();
    await sendPrompt(alice, session.id, 'once', 'dup');
    await sendPrompt(alice, session.id, 'twice', 'dup');
    await sendPrompt(alice, session.id, 'no local id');
    const page = await alice.api.get(messagesPath(session.id));
    const messages = page.body.messages as WebMessage[];
    expect(messages.map((m) => [m.localId, (m.content as { content: { text: string } }).content.text])).toEqual([
      ['dup', 'once'],
      [null, 'no local id'],
    ]);
    expect(messages[1]!.invokedAt).toBe(messages[1]!.createdAt);
  });

  it('409 session_inactive, 400 invalid bodies with issues, 400 empty message, 404/403 guards', async () => {
    const { alice, bob } = world;
    const inactive = await alice.session();
    const inactiveReply = await alice.api.post(messagesPath(inactive.id), { text: 'x' });
    expect(inactiveReply.status).toBe(409);
    expect(inactiveReply.body).toEqual({ error: 'Session is inactive', code: 'session_inactive' });
    // The active check comes before body validation, as upstream.
    expect((await alice.api.post(messagesPath(inactive.id), { bogus: true })).status).toBe(409);

    const { session } = await alice.liveSession();
    const soon = Date.now() + 60_000;
    const invalid: unknown[] = [
      {},
      { text: 5 },
      { text: 'x', localId: '' },
      { text: 'x', scheduledAt: soon },
      { text: 'x', localId: 'l', scheduledAt: Date.now() + 8 * 24 * 3600_000 },
      { text: 'x', localId: 'l', scheduledAt: soon, deliveryMode: 'steer' },
      {
        text: 'x',
        localId: 'l',
        scheduledAt: soon,
        attachments: [{ id: 'a', filename: 'f', mimeType: 'm', size: 1, path: 'p' }],
      },
      { text: 'x', deliveryMode: 'later' },
      { text: 'x', attachments: [{ id: 'a' }] },
    ];
    for (const body of invalid) {
      const response = await alice.api.post(messagesPath(session.id), body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error).toBe('Invalid body');
      expect(response.body.issues.length, JSON.stringify(body)).toBeGreaterThan(0);
    }
    const malformed = await alice.api.request('POST', messagesPath(session.id), {
      rawBody: '{"text":',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe('Invalid body');

    const empty = await alice.api.post(messagesPath(session.id), { text: '' });
    expect(empty.status).toBe(400);
    expect(empty.body).toEqual({ error: 'Message requires text or attachments' });

    // scheduledAt/deliveryMode are accepted when valid (no scheduler: delivered now).
    expect(
      (
        await alice.api.post(messagesPath(session.id), {
          text: 'later',
          localId: 'sched',
          scheduledAt: soon,
          deliveryMode: 'queue',
        })
      ).status,
    ).toBe(200);

    expect(await alice.api.post(messagesPath('missing'), { text: 'x' })).toMatchObject({
      status: 404,
      body: { error: 'Session not found' },
    });
    const foreign = await bob.api.post(messagesPath(session.id), { text: 'x' });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual({ error: 'Session not found' });
    expect((await bob.api.get(messagesPath(session.id))).status).toBe(404);
    expect((await bob.api.post(`${messagesPath(session.id)}/queued-state`, { localIds: ['x'] })).status).toBe(404);
    expect((await bob.api.del(`${messagesPath(session.id)}/sched`)).status).toBe(404);
  });

  it('queued-state: 400 for non-arrays, empty ids and more than 1000 ids', async () => {
    const { alice } = world;
    const session = await alice.session();
    for (const body of [
      {},
      { localIds: 'x' },
      { localIds: [''] },
      { localIds: Array.from({ length: 1001 }, (_, i) => `id-${i}`) },
    ]) {
      const response = await alice.api.post(`${messagesPath(session.id)}/queued-state`, body);
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('Invalid body');
      expect(response.body.issues.length).toBeGreaterThan(0);
    }
  });
});

describe('DELETE /api/sessions/:id/messages/:messageId', () => {
  it('cancels a queued prompt (by localId or id) with SSE message-cancelled; invoked → invoked; unknown → cancelled null', async () => {
    const { alice, t } = world;
    const { session, socket } = await alice.liveSession();
    const sse = await openSse(t.url, { token: alice.jwt, query: { sessionId: session.id } });
    try {
      await sendPrompt(alice, session.id, 'cancel me', 'c1');
      await sendPrompt(alice, session.id, 'cancel me by id', 'c2');
      await sendPrompt(alice, session.id, 'consumed', 'c3');
      socket.emit('messages-consumed', { sid: session.id, localIds: ['c3'] });
      await pingBarrier(socket);
      const before = (await alice.api.get(messagesPath(session.id))).body as {
        messages: WebMessage[];
        page: { epoch: number };
      };
      const byLocal = new Map(before.messages.map((m) => [m.localId, m]));

      const cancelled = await alice.api.del(`${messagesPath(session.id)}/c1`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body).toEqual({ status: 'cancelled', localId: 'c1' });
      const event = await sse.next((f) => f.event.type === 'message-cancelled');
      expect(event.event).toMatchObject({
        type: 'message-cancelled',
        sessionId: session.id,
        messageId: byLocal.get('c1')!.id,
        localId: 'c1',
        namespace: alice.ns,
      });

      expect((await alice.api.del(`${messagesPath(session.id)}/${byLocal.get('c2')!.id}`)).body).toEqual({
        status: 'cancelled',
        localId: 'c2',
      });
      const invoked = await alice.api.del(`${messagesPath(session.id)}/c3`);
      expect(invoked.body).toEqual({ status: 'invoked', message: byLocal.get('c3') });
      expect((await alice.api.del(`${messagesPath(session.id)}/c1`)).body).toEqual({
        status: 'cancelled',
        localId: null,
      });

      const after = (await alice.api.get(messagesPath(session.id))).body as {
        messages: WebMessage[];
        page: { epoch: number };
      };
      expect(after.messages.map((m) => m.localId)).toEqual(['c3']);
      // Every delete bumps the epoch (two deletes).
      expect(after.page.epoch).toBe(before.page.epoch + 2);
    } finally {
      sse.close();
    }
  });

  it('works on an inactive session (active not required)', async () => {
    const { alice } = world;
    const session = await alice.session();
    expect((await alice.api.del(`${messagesPath(session.id)}/whatever`)).body).toEqual({
      status: 'cancelled',
      localId: null,
    });
    expect((await alice.api.del(`${messagesPath('missing')}/whatever`)).status).toBe(404);
  });
});

describe('GET /api/sessions/:id/messages pagination', () => {
  it('latest (+ out-of-band queued), before, after/until, and reset after an epoch bump', async () => {
    const { alice, t } = world;
    const { session, socket } = await alice.liveSession();
    const sid = session.id;
    const tick = () => t.clock.advance(1000);
    const t0 = tick();
    await agentMessage(socket, sid, 'A'); // seq 1 @ t0
    const t1 = tick();
    await agentMessage(socket, sid, 'B'); // seq 2 @ t1
    tick();
    await sendPrompt(alice, sid, 'Q1', 'q1'); // seq 3, queued
    const t3 = tick();
    await agentMessage(socket, sid, 'C'); // seq 4 @ t3
    const t4 = tick();
    await sendPrompt(alice, sid, 'Q2', 'q2'); // seq 5, queued @ t4
    const t5 = tick();
    socket.emit('messages-consumed', { sid, localIds: ['q1'] }); // Q1 moves to t5
    await pingBarrier(socket);
    const t6 = tick();
    await agentMessage(socket, sid, 'D'); // seq 6 @ t6
    // Position order: A(t0,1) B(t1,2) C(t3,4) Q2(t4,5, queued) Q1(t5,3) D(t6,6)

    const seqs = (body: { messages: WebMessage[] }) => body.messages.map((m) => m.seq);
    const latest = await alice.api.get(messagesPath(sid), { limit: 2 });
    expect(latest.status).toBe(200);
    expect(seqs(latest.body)).toEqual([5, 3, 6]); // Q2 rides along out of band
    expect(latest.body.page).toEqual({
      direction: 'latest',
      limit: 2,
      epoch: 0,
      reset: false,
      nextBeforeSeq: 3,
      nextBeforeAt: t5,
      nextAfterSeq: null,
      nextAfterAt: null,
      snapshotHeadSeq: 6,
      snapshotHeadAt: t6,
      hasMore: true,
    });
    const q2 = (latest.body.messages as WebMessage[])[0]!;
    expect(q2).toEqual({
      id: expect.any(String),
      seq: 5,
      localId: 'q2',
      content: expect.anything(),
      createdAt: t4,
      invokedAt: null,
      scheduledAt: null,
    });

    const older = await alice.api.get(messagesPath(sid), { limit: 2, beforeSeq: 3, beforeAt: t5 });
    expect(seqs(older.body)).toEqual([4, 5]);
    expect(older.body.page).toMatchObject({
      direction: 'before',
      nextBeforeSeq: 4,
      nextBeforeAt: t3,
      hasMore: true,
      snapshotHeadSeq: 6,
      nextAfterSeq: null,
    });
    const oldest = await alice.api.get(messagesPath(sid), { limit: 2, beforeSeq: 4, beforeAt: t3 });
    expect(seqs(oldest.body)).toEqual([1, 2]);
    expect(oldest.body.page).toMatchObject({ nextBeforeSeq: 1, nextBeforeAt: t0, hasMore: false });

    const forward = await alice.api.get(messagesPath(sid), {
      limit: 2,
      afterSeq: 1,
      afterAt: t0,
      untilSeq: 4,
      untilAt: t3,
      epoch: 0,
    });
    expect(seqs(forward.body)).toEqual([2, 4]);
    expect(forward.body.page).toEqual({
      direction: 'after',
      limit: 2,
      epoch: 0,
      reset: false,
      nextBeforeSeq: null,
      nextBeforeAt: null,
      nextAfterSeq: 4,
      nextAfterAt: t3,
      snapshotHeadSeq: 4,
      snapshotHeadAt: t3,
      hasMore: false,
    });
    const partial = await alice.api.get(messagesPath(sid), {
      limit: 1,
      afterSeq: 1,
      afterAt: t0,
      untilSeq: 4,
      untilAt: t3,
    });
    expect(seqs(partial.body)).toEqual([2]);
    expect(partial.body.page).toMatchObject({ nextAfterSeq: 2, nextAfterAt: t1, hasMore: true });
    const unbounded = await alice.api.get(messagesPath(sid), { afterSeq: 4, afterAt: t3 });
    expect(seqs(unbounded.body)).toEqual([5, 3, 6]);
    expect(unbounded.body.page).toMatchObject({ nextAfterSeq: 6, snapshotHeadSeq: 6, hasMore: false });
    const atHead = await alice.api.get(messagesPath(sid), { afterSeq: 6, afterAt: t6 });
    expect(atHead.body.messages).toEqual([]);
    expect(atHead.body.page).toMatchObject({
      direction: 'after',
      nextAfterSeq: 6,
      nextAfterAt: t6,
      hasMore: false,
      snapshotHeadSeq: 6,
    });

    // Cancelling the queued Q2 deletes it and bumps the epoch: an `after` with the old epoch is
    // answered as a fresh latest page flagged reset.
    expect((await alice.api.del(`${messagesPath(sid)}/q2`)).body).toEqual({ status: 'cancelled', localId: 'q2' });
    const reset = await alice.api.get(messagesPath(sid), { limit: 2, afterSeq: 4, afterAt: t3, epoch: 0 });
    expect(seqs(reset.body)).toEqual([3, 6]);
    expect(reset.body.page).toMatchObject({
      direction: 'latest',
      epoch: 1,
      reset: true,
      nextBeforeSeq: 3,
      hasMore: true,
      nextAfterSeq: null,
    });
    const current = await alice.api.get(messagesPath(sid), { limit: 2, afterSeq: 4, afterAt: t3, epoch: 1 });
    expect(current.body.page).toMatchObject({ direction: 'after', epoch: 1, reset: false });
    expect(seqs(current.body)).toEqual([3, 6]);
  });

  it('an empty session pages to nothing', async () => {
    const { alice } = world;
    const session = await alice.session();
    const response = await alice.api.get(messagesPath(session.id));
    expect(response.body).toEqual({
      messages: [],
      page: {
        direction: 'latest',
        limit: 50,
        epoch: 0,
        reset: false,
        nextBeforeSeq: null,
        nextBeforeAt: null,
        nextAfterSeq: null,
        nextAfterAt: null,
        snapshotHeadSeq: null,
        snapshotHeadAt: null,
        hasMore: false,
      },
    });
  });

  it('400 Invalid query with issues for broken cursor combinations and limits', async () => {
    const { alice } = world;
    const session = await alice.session();
    const bad: Record<string, string | number>[] = [
      { beforeSeq: 1 },
      { afterAt: 5 },
      { untilSeq: 1, untilAt: 1 },
      { epoch: 0 },
      { beforeSeq: 1, beforeAt: 1, afterSeq: 1, afterAt: 1 },
      { limit: 0 },
      { limit: 201 },
      { beforeSeq: 'abc', beforeAt: 1 },
      { beforeSeq: 0, beforeAt: 1 },
      { afterSeq: 1, afterAt: -1 },
    ];
    for (const query of bad) {
      const response = await alice.api.get(messagesPath(session.id), query);
      expect(response.status, JSON.stringify(query)).toBe(400);
      expect(response.body.error).toBe('Invalid query');
      expect(response.body.issues.length).toBeGreaterThan(0);
    }
  });
});
