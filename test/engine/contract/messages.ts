// Contract of the message store (engine.messages); the event a message append writes is in event-log.ts.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { MessagePageQuery, MessageRow } from '../../../src/engine/types.js';
import {
  appendInserted,
  createSession,
  type EngineHarness,
  messageInput,
  T0,
  uniqueName,
  uniqueNamespace,
} from './harness.js';

const seqs = (rows: MessageRow[]) => rows.map((row) => row.seq);

export function describeMessageContract(harness: EngineHarness): void {
  describe('messages: append', () => {
    it('stores rows with gap-free seqs from 1', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const input = messageInput({ createdAt: T0, content: { role: 'agent', body: [1, { x: 'y' }] } });
      const first = await engine.messages.append(ns, session.id, input);
      expect(first).toEqual({
        ok: true,
        inserted: true,
        attachedSockets: 0,
        trimmedBytes: 0,
        message: {
          id: input.id,
          sessionId: session.id,
          seq: 1,
          localId: null,
          content: input.content,
          createdAt: T0,
          invokedAt: T0,
        },
      });
      const second = await appendInserted(
        engine,
        ns,
        session.id,
        messageInput({ createdAt: T0 + 1, localId: 'l-2', invokedAt: null }),
      );
      expect(second).toMatchObject({ seq: 2, localId: 'l-2', invokedAt: null });
      expect(await engine.messages.listAfterSeq(ns, session.id, 0, 10)).toEqual([first.ok && first.message, second]);
    });

    it('refuses unknown sessions and sessions of another namespace', async () => {
      const engine = harness.engine();
      const session = await createSession(engine, uniqueNamespace());
      const notFound = { ok: false, reason: 'session-not-found' };
      expect(await engine.messages.append(session.namespace, randomUUID(), messageInput({ createdAt: T0 }))).toEqual(
        notFound,
      );
      expect(await engine.messages.append(uniqueNamespace(), session.id, messageInput({ createdAt: T0 }))).toEqual(
        notFound,
      );
      expect(await engine.messages.listAfterSeq(session.namespace, session.id, 0, 10)).toEqual([]);
    });

    it('dedupes by localId within a session without consuming a seq', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const original = await appendInserted(
        engine,
        ns,
        session.id,
        messageInput({ createdAt: T0, localId: 'same', content: 'first' }),
      );
      const retry = await engine.messages.append(
        ns,
        session.id,
        messageInput({ createdAt: T0 + 5, localId: 'same', content: 'second' }),
      );
      expect(retry).toEqual({ ok: true, inserted: false, message: original, attachedSockets: 0, trimmedBytes: 0 });
      expect(await appendInserted(engine, ns, session.id, messageInput({ createdAt: T0 + 6 }))).toMatchObject({
        seq: 2,
      });

      const other = await createSession(engine, ns);
      expect(
        await appendInserted(engine, ns, other.id, messageInput({ createdAt: T0, localId: 'same' })),
      ).toMatchObject({ seq: 1 });
    });

    it('assigns seqs 1..50 exactly once to 50 concurrent appends', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          engine.messages.append(ns, session.id, messageInput({ createdAt: T0 + i })),
        ),
      );
      const assigned = results
        .map((result) => (result.ok && result.inserted ? result.message.seq : -1))
        .sort((a, b) => a - b);
      expect(assigned).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(seqs(await engine.messages.listAfterSeq(ns, session.id, 0, 100))).toEqual(assigned);
    });

    it('inserts once when concurrent appends share a localId', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          engine.messages.append(ns, session.id, messageInput({ createdAt: T0 + i, localId: 'dup', invokedAt: null })),
        ),
      );
      const rows = results.map((result) => {
        if (!result.ok) throw new Error(result.reason);
        return result;
      });
      expect(rows.filter((result) => result.inserted)).toHaveLength(1);
      expect(new Set(rows.map((result) => result.message.id)).size).toBe(1);
      expect(rows.every((result) => result.message.seq === 1)).toBe(true);
      expect(await engine.messages.listAfterSeq(ns, session.id, 0, 100)).toHaveLength(1);
    });

    it('trims the oldest rows beyond messageHistoryLimit and keeps counting seqs', async () => {
      const engine = await harness.engineWith({ messageHistoryLimit: 3 });
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      for (let i = 0; i < 5; i += 1) await appendInserted(engine, ns, session.id, messageInput({ createdAt: T0 + i }));
      expect(seqs(await engine.messages.listAfterSeq(ns, session.id, 0, 100))).toEqual([3, 4, 5]);
      expect(await appendInserted(engine, ns, session.id, messageInput({ createdAt: T0 + 9 }))).toMatchObject({
        seq: 6,
      });
      expect(seqs(await engine.messages.page(ns, session.id, { limit: 100 }))).toEqual([4, 5, 6]);
    });

    it('says how many counted bytes each append trimmed under messageHistoryLimit', async () => {
      const engine = await harness.engineWith({ messageHistoryLimit: 2 });
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const append = (createdAt: number, countedBytes?: number, id: string = randomUUID()) =>
        engine.messages.append(
          ns,
          session.id,
          messageInput({ id, createdAt, ...(countedBytes ? { countedBytes } : {}) }),
        );
      expect(await append(T0, 100)).toMatchObject({ ok: true, inserted: true, trimmedBytes: 0 });
      expect(await append(T0 + 1, 20)).toMatchObject({ ok: true, inserted: true, trimmedBytes: 0 });
      // The third row pushes out the first (100 bytes), the fourth the second (20).
      expect(await append(T0 + 2, 3)).toMatchObject({ ok: true, inserted: true, trimmedBytes: 100 });
      expect(await append(T0 + 3)).toMatchObject({ ok: true, inserted: true, trimmedBytes: 20 });
      // A row stored without countedBytes counts 0; a duplicate trims nothing.
      expect(await append(T0 + 4, 5)).toMatchObject({ ok: true, inserted: true, trimmedBytes: 3 });
      expect(await append(T0 + 5, 7)).toMatchObject({ ok: true, inserted: true, trimmedBytes: 0 });
      expect(await append(T0 + 6, 1)).toMatchObject({ ok: true, inserted: true, trimmedBytes: 5 });
      const last = (await engine.messages.listAfterSeq(ns, session.id, 0, 10)).at(-1);
      expect(await append(T0 + 9, 1, last?.id)).toMatchObject({ ok: true, inserted: false, trimmedBytes: 0 });
    });

    it('never lets callers mutate stored content', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const content = { text: 'hi', parts: [{ a: 1 }] };
      const row = await appendInserted(engine, ns, session.id, messageInput({ createdAt: T0, content, localId: 'l' }));
      content.parts.push({ a: 2 });
      (row.content as { text: string }).text = 'changed';
      const fetched = await engine.messages.get(ns, session.id, row.id);
      expect(fetched?.content).toEqual({ text: 'hi', parts: [{ a: 1 }] });
      (fetched?.content as { text: string }).text = 'changed again';
      expect((await engine.messages.listAfterSeq(ns, session.id, 0, 1))[0]?.content).toEqual({
        text: 'hi',
        parts: [{ a: 1 }],
      });
    });
  });

  describe('messages: reads', () => {
    it('lists after a seq, ascending, up to limit', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      for (let i = 0; i < 6; i += 1)
        await appendInserted(engine, ns, session.id, messageInput({ createdAt: T0 + 10 - i }));
      expect(seqs(await engine.messages.listAfterSeq(ns, session.id, 2, 3))).toEqual([3, 4, 5]);
      expect(seqs(await engine.messages.listAfterSeq(ns, session.id, 4, 100))).toEqual([5, 6]);
      expect(await engine.messages.listAfterSeq(ns, session.id, 6, 100)).toEqual([]);
    });

    it('pages by position (invokedAt ?? createdAt, seq) in every cursor mode', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      // Positions: (10,1) (30,2) (20,3) (30,4) (40,5); the queued row's position is its createdAt.
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: 10 }));
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: 5, invokedAt: 30 }));
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: 20, invokedAt: null, localId: 'queued' }));
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: 30 }));
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: 40 }));
      const page = async (query: MessagePageQuery) => seqs(await engine.messages.page(ns, session.id, query));

      expect(await page({ limit: 3 })).toEqual([2, 4, 5]);
      expect(await page({ limit: 100 })).toEqual([1, 3, 2, 4, 5]);
      expect(await page({ before: { at: 30, seq: 4 }, limit: 2 })).toEqual([3, 2]);
      expect(await page({ before: { at: 30, seq: 2 }, limit: 10 })).toEqual([1, 3]);
      expect(await page({ before: { at: 10, seq: 1 }, limit: 10 })).toEqual([]);
      expect(await page({ after: { at: 20, seq: 3 }, limit: 10 })).toEqual([2, 4, 5]);
      expect(await page({ after: { at: 10, seq: 1 }, limit: 2 })).toEqual([3, 2]);
      expect(await page({ after: { at: 20, seq: 3 }, until: { at: 30, seq: 4 }, limit: 10 })).toEqual([2, 4]);
      expect(await page({ after: { at: 0, seq: 0 }, until: { at: 30, seq: 3 }, limit: 10 })).toEqual([1, 3, 2]);
      expect(await page({ after: { at: 40, seq: 5 }, limit: 10 })).toEqual([]);
    });

    it('reports the newest position as the head', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      expect(await engine.messages.head(ns, session.id)).toBeNull();
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: 50 }));
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: 20 }));
      expect(await engine.messages.head(ns, session.id)).toEqual({ at: 50, seq: 1 });
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: 50 }));
      expect(await engine.messages.head(ns, session.id)).toEqual({ at: 50, seq: 3 });
    });

    it('lists queued rows: uninvoked with a localId, ascending seq', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: T0, invokedAt: null, localId: 'q1' }));
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: T0 + 1, invokedAt: null }));
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: T0 + 2, localId: 'done' }));
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: T0 + 3, invokedAt: null, localId: 'q2' }));
      const queued = await engine.messages.queued(ns, session.id);
      expect(queued.map((row) => row.localId)).toEqual(['q1', 'q2']);
      expect(seqs(queued)).toEqual([1, 4]);
    });

    it('finds rows by localIds, by id and by localId', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const a = await appendInserted(engine, ns, session.id, messageInput({ createdAt: T0, localId: 'a' }));
      const b = await appendInserted(engine, ns, session.id, messageInput({ createdAt: T0 + 1, localId: 'b' }));
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: T0 + 2, localId: 'c' }));
      const found = await engine.messages.byLocalIds(ns, session.id, ['b', 'missing', 'a']);
      expect([...found].sort((x, y) => x.seq - y.seq)).toEqual([a, b]);
      expect(await engine.messages.byLocalIds(ns, session.id, [])).toEqual([]);
      expect(await engine.messages.get(ns, session.id, b.id)).toEqual(b);
      expect(await engine.messages.get(ns, session.id, 'b')).toEqual(b);
      expect(await engine.messages.get(ns, session.id, 'missing')).toBeNull();
    });

    it('keeps two histories for the same session id in two namespaces', async () => {
      const engine = harness.engine();
      const owner = await createSession(engine, uniqueNamespace());
      const twinNs = uniqueNamespace();
      const twin = await engine.sessions.getOrCreate(
        twinNs,
        { id: owner.id, tag: uniqueName('tag'), metadata: null, agentState: null },
        T0,
      );
      expect(twin).toMatchObject({ ok: true, created: true });
      const mine = await appendInserted(
        engine,
        owner.namespace,
        owner.id,
        messageInput({ createdAt: T0, localId: 'same', content: 'owner' }),
      );
      const theirs = await appendInserted(
        engine,
        twinNs,
        owner.id,
        messageInput({ createdAt: T0, localId: 'same', content: 'twin', invokedAt: null }),
      );
      expect([mine.seq, theirs.seq]).toEqual([1, 1]);
      expect(await engine.messages.listAfterSeq(owner.namespace, owner.id, 0, 10)).toEqual([mine]);
      expect(await engine.messages.queued(owner.namespace, owner.id)).toEqual([]);
      expect(await engine.messages.delete(twinNs, owner.id, mine.id)).toBe(false);
      expect(await engine.messages.get(owner.namespace, owner.id, mine.id)).toEqual(mine);
    });

    it('shows nothing of a session to another namespace', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const row = await appendInserted(
        engine,
        ns,
        session.id,
        messageInput({ createdAt: T0, localId: 'q', invokedAt: null }),
      );
      await engine.messages.delete(
        ns,
        session.id,
        (await appendInserted(engine, ns, session.id, messageInput({ createdAt: 1 }))).id,
      );
      const other = uniqueNamespace();
      expect(await engine.messages.listAfterSeq(other, session.id, 0, 10)).toEqual([]);
      expect(await engine.messages.page(other, session.id, { limit: 10 })).toEqual([]);
      expect(await engine.messages.head(other, session.id)).toBeNull();
      expect(await engine.messages.queued(other, session.id)).toEqual([]);
      expect(await engine.messages.byLocalIds(other, session.id, ['q'])).toEqual([]);
      expect(await engine.messages.get(other, session.id, row.id)).toBeNull();
      expect(await engine.messages.markInvoked(other, session.id, ['q'], T0 + 1)).toEqual([]);
      expect(await engine.messages.delete(other, session.id, row.id)).toBe(false);
      expect(await engine.messages.epoch(other, session.id)).toBe(0);
      expect(await engine.messages.get(ns, session.id, row.id)).toEqual(row);
      // The late append and the delete each bumped the owner's epoch; the foreign view stays 0.
      expect(await engine.messages.epoch(ns, session.id)).toBe(2);
    });
  });

  describe('messages: invoke, delete and epoch', () => {
    it('marks queued rows invoked once; first write wins', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: 10, invokedAt: null, localId: 'q1' }));
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: 20, invokedAt: null, localId: 'q2' }));
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: 30, localId: 'invoked' }));

      const changed = await engine.messages.markInvoked(ns, session.id, ['q2', 'invoked', 'unknown'], 100);
      expect(changed).toEqual(['q2']);
      expect(await engine.messages.markInvoked(ns, session.id, ['q2', 'q1'], 200)).toEqual(['q1']);
      expect(await engine.messages.markInvoked(ns, session.id, ['q1', 'q2'], 300)).toEqual([]);
      expect((await engine.messages.get(ns, session.id, 'q2'))?.invokedAt).toBe(100);
      expect((await engine.messages.get(ns, session.id, 'q1'))?.invokedAt).toBe(200);
      expect((await engine.messages.get(ns, session.id, 'invoked'))?.invokedAt).toBe(30);
      expect(await engine.messages.queued(ns, session.id)).toEqual([]);
    });

    it('moves an invoked row to its invokedAt position without bumping the epoch', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: 10, invokedAt: null, localId: 'q' }));
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: 20 }));
      expect(seqs(await engine.messages.page(ns, session.id, { limit: 10 }))).toEqual([1, 2]);
      expect(await engine.messages.markInvoked(ns, session.id, ['q'], 50)).toEqual(['q']);
      expect(seqs(await engine.messages.page(ns, session.id, { limit: 10 }))).toEqual([2, 1]);
      expect(await engine.messages.head(ns, session.id)).toEqual({ at: 50, seq: 1 });
      expect(await engine.messages.epoch(ns, session.id)).toBe(0);
    });

    it('bumps the epoch only when a row lands strictly before the head', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      expect(await engine.messages.epoch(ns, session.id)).toBe(0);
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: 100 }));
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: 100 }));
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: 150 }));
      expect(await engine.messages.epoch(ns, session.id)).toBe(0);
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: 149 }));
      expect(await engine.messages.epoch(ns, session.id)).toBe(1);
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: 1, invokedAt: 150 }));
      expect(await engine.messages.epoch(ns, session.id)).toBe(1);
      await appendInserted(
        engine,
        ns,
        session.id,
        messageInput({ createdAt: 120, invokedAt: null, localId: uniqueName('l') }),
      );
      expect(await engine.messages.epoch(ns, session.id)).toBe(2);
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: 0, localId: 'late-arrival' }));
      expect(await engine.messages.epoch(ns, session.id)).toBe(3);
      // A deduped retry stores nothing, so it cannot move the epoch.
      expect(
        await engine.messages.append(ns, session.id, messageInput({ createdAt: 0, localId: 'late-arrival' })),
      ).toMatchObject({ inserted: false });
      expect(await engine.messages.epoch(ns, session.id)).toBe(3);
    });

    it('deletes one row by id, bumping the epoch and never reusing its seq', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const first = await appendInserted(engine, ns, session.id, messageInput({ createdAt: 10, localId: 'one' }));
      const second = await appendInserted(engine, ns, session.id, messageInput({ createdAt: 20 }));
      expect(await engine.messages.delete(ns, session.id, second.id)).toBe(true);
      expect(await engine.messages.epoch(ns, session.id)).toBe(1);
      expect(await engine.messages.delete(ns, session.id, second.id)).toBe(false);
      expect(await engine.messages.delete(ns, session.id, randomUUID())).toBe(false);
      expect(await engine.messages.epoch(ns, session.id)).toBe(1);
      expect(await engine.messages.listAfterSeq(ns, session.id, 0, 10)).toEqual([first]);
      expect(await engine.messages.head(ns, session.id)).toEqual({ at: 10, seq: 1 });
      expect(await appendInserted(engine, ns, session.id, messageInput({ createdAt: 30 }))).toMatchObject({ seq: 3 });
    });
  });
}
