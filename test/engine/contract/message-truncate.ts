// Contract of the rewind primitive (engine.messages.truncateFrom): which rows go (the target and
// everything at or after its position, queued rows included), what survives, seqs and epoch.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/engine/engine.js';
import { appendInserted, createSession, type EngineHarness, messageInput, T0, uniqueNamespace } from './harness.js';

async function allRows(engine: Engine, ns: string, sid: string) {
  return engine.messages.page(ns, sid, { limit: 200 });
}

export function describeMessageTruncateContract(harness: EngineHarness): void {
  describe('messages: truncateFrom (rewind)', () => {
    it('removes the target and every row at or after its position, then bumps the epoch', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const { id: sid } = await createSession(engine, ns);
      // countedBytes: survivors 1 + 2; removed 4 + 8 + 16 + 32 (each distinct, so a sum names its rows).
      await appendInserted(engine, ns, sid, messageInput({ createdAt: T0, localId: 'u1', countedBytes: 1 }));
      await appendInserted(engine, ns, sid, messageInput({ createdAt: T0 + 1, countedBytes: 2 }));
      const target = await appendInserted(
        engine,
        ns,
        sid,
        messageInput({ createdAt: T0 + 2, localId: 'u2', countedBytes: 4 }),
      );
      await appendInserted(engine, ns, sid, messageInput({ createdAt: T0 + 3, countedBytes: 8 }));
      // Created before the target but invoked after it: its position is later, so it goes too.
      await appendInserted(
        engine,
        ns,
        sid,
        messageInput({ createdAt: T0 + 1, invokedAt: T0 + 4, localId: 'late', countedBytes: 16 }),
      );
      // Still queued, positioned at its createdAt (after the target): goes.
      await appendInserted(
        engine,
        ns,
        sid,
        messageInput({ createdAt: T0 + 5, invokedAt: null, localId: 'queued', countedBytes: 32 }),
      );
      const epochBefore = await engine.messages.epoch(ns, sid);

      const result = await engine.messages.truncateFrom(ns, sid, 'u2', []);
      expect(result).toEqual({ deleted: 4, inserted: 0, deletedBytes: 60, insertedBytes: 0, epoch: epochBefore + 1 });
      expect(await engine.messages.epoch(ns, sid)).toBe(epochBefore + 1);
      const left = await allRows(engine, ns, sid);
      expect(left.map((row) => row.seq)).toEqual([1, 2]);
      expect(await engine.messages.get(ns, sid, target.id)).toBeNull();
      expect(await engine.messages.get(ns, sid, 'late')).toBeNull();
      expect(await engine.messages.queued(ns, sid)).toEqual([]);
      expect(await engine.messages.head(ns, sid)).toEqual({ at: T0 + 1, seq: 2 });
      // The removed localIds are free again: a new prompt may reuse one.
      const again = await appendInserted(engine, ns, sid, messageInput({ createdAt: T0 + 10, localId: 'u2' }));
      expect(again.seq).toBe(7);
    });

    it('appends the replacement rows with new seqs (never reusing removed ones)', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const { id: sid } = await createSession(engine, ns);
      await appendInserted(engine, ns, sid, messageInput({ createdAt: T0, localId: 'u1', countedBytes: 1 }));
      await appendInserted(engine, ns, sid, messageInput({ createdAt: T0 + 1, localId: 'u2', countedBytes: 2 }));
      // Counts nothing (a row stored without countedBytes).
      await appendInserted(engine, ns, sid, messageInput({ createdAt: T0 + 2 }));
      const replacement = [
        messageInput({ createdAt: T0 + 1, localId: 'u2', content: { role: 'user', text: 'edited' }, countedBytes: 8 }),
        messageInput({ createdAt: T0 + 1, content: { role: 'agent', text: 'summary' }, countedBytes: 16 }),
        // Collides with a survivor's localId: skipped, and its bytes are not counted.
        messageInput({ createdAt: T0 + 1, localId: 'u1', countedBytes: 32 }),
      ];
      const result = await engine.messages.truncateFrom(ns, sid, 'u2', replacement);
      expect(result).toMatchObject({ deleted: 2, inserted: 2, deletedBytes: 2, insertedBytes: 24 });
      const rows = await allRows(engine, ns, sid);
      expect(rows.map((row) => [row.seq, row.localId, row.content])).toEqual([
        [1, 'u1', { role: 'user', text: `message ${T0}` }],
        [4, 'u2', { role: 'user', text: 'edited' }],
        [5, null, { role: 'agent', text: 'summary' }],
      ]);
      expect((await engine.messages.listAfterSeq(ns, sid, 1, 10)).map((row) => row.seq)).toEqual([4, 5]);
      expect((await engine.messages.get(ns, sid, 'u2'))?.id).toBe(replacement[0]?.id);
      // The replacement rows keep their counts: a second rewind gives them back.
      expect(await engine.messages.truncateFrom(ns, sid, 'u2', [])).toMatchObject({ deleted: 2, deletedBytes: 24 });
    });

    it('answers null and changes nothing for an unknown localId or session', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const { id: sid } = await createSession(engine, ns);
      await appendInserted(engine, ns, sid, messageInput({ createdAt: T0, localId: 'u1' }));
      const epoch = await engine.messages.epoch(ns, sid);
      expect(await engine.messages.truncateFrom(ns, sid, 'nope', [messageInput({ createdAt: T0 })])).toBeNull();
      expect(await engine.messages.truncateFrom(ns, randomUUID(), 'u1', [])).toBeNull();
      expect(await engine.messages.truncateFrom(uniqueNamespace(), sid, 'u1', [])).toBeNull();
      expect(await engine.messages.epoch(ns, sid)).toBe(epoch);
      expect((await allRows(engine, ns, sid)).map((row) => row.localId)).toEqual(['u1']);
    });
  });
}
