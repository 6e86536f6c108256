// Contract of the inputs that carry rows over from another hub (hapi-hub import): a session or
// machine created with `stored` columns, and a message appended with its own `seq`.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { appendInserted, createSession, type EngineHarness, messageInput, T0, uniqueNamespace } from './harness.js';

export function describeCarriedOverRowsContract(harness: EngineHarness): void {
  describe('carried-over rows', () => {
    it('creates a session with its stored columns and keeps them on a second call', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const id = randomUUID();
      const stored = {
        updatedAt: T0 + 50,
        seq: 11,
        metadataVersion: 8,
        agentStateVersion: 3,
        serviceTier: 'fast',
        pinned: true,
        globalPinned: false,
      };
      const input = { id, tag: 'tag-1', metadata: { path: '/w' }, agentState: { a: 1 }, model: 'm', stored };
      const created = await engine.sessions.getOrCreate(ns, input, T0);
      expect(created).toEqual({
        ok: true,
        created: true,
        session: {
          id,
          namespace: ns,
          tag: 'tag-1',
          createdAt: T0,
          model: 'm',
          modelReasoningEffort: null,
          effort: null,
          metadata: { path: '/w' },
          agentState: { a: 1 },
          ...stored,
          live: {},
        },
      });
      if (!created.ok) return;
      expect(await engine.sessions.get(ns, id)).toEqual(created.session);
      const again = await engine.sessions.getOrCreate(ns, { ...input, stored: { ...stored, seq: 99 } }, T0 + 1);
      expect(again).toEqual({ ok: true, created: false, session: created.session });
      // The carried-over version is the one a compare-and-set must name.
      const cas = await engine.sessions.compareAndSet(
        ns,
        id,
        'metadata',
        8,
        { path: '/x' },
        {
          now: T0 + 60,
          touchUpdatedAt: true,
        },
      );
      expect(cas).toEqual({ result: 'success', version: 9, value: { path: '/x' } });
    });

    it('creates a machine with its stored columns', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const id = randomUUID();
      const stored = { updatedAt: T0 + 9, seq: 4, metadataVersion: 2, runnerStateVersion: 5 };
      const created = await engine.machines.getOrCreate(
        ns,
        { id, metadata: { host: 'h' }, runnerState: null, stored },
        T0,
      );
      expect(created).toEqual({
        created: true,
        machine: { id, namespace: ns, createdAt: T0, metadata: { host: 'h' }, runnerState: null, ...stored, live: {} },
      });
      expect(await engine.machines.get(ns, id)).toEqual(created.machine);
      const cas = await engine.machines.compareAndSet(ns, id, 'runnerState', 5, { status: 'x' }, { now: T0 + 10 });
      expect(cas).toMatchObject({ result: 'success', version: 6 });
    });

    it('appends a message at its own seq, gaps kept, and never below the last seq', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const a = await appendInserted(
        engine,
        ns,
        session.id,
        messageInput({ createdAt: T0 + 1, seq: 3, localId: 'l1' }),
      );
      const b = await appendInserted(engine, ns, session.id, messageInput({ createdAt: T0 + 2, seq: 7 }));
      // At or below the last seq: the row gets last + 1, as a plain append.
      const c = await appendInserted(engine, ns, session.id, messageInput({ createdAt: T0 + 3, seq: 2 }));
      const d = await appendInserted(engine, ns, session.id, messageInput({ createdAt: T0 + 4 }));
      expect([a.seq, b.seq, c.seq, d.seq]).toEqual([3, 7, 8, 9]);
      expect((await engine.messages.listAfterSeq(ns, session.id, 0, 10)).map((m) => [m.id, m.seq])).toEqual([
        [a.id, 3],
        [b.id, 7],
        [c.id, 8],
        [d.id, 9],
      ]);
      expect(await engine.messages.head(ns, session.id)).toEqual({ at: T0 + 4, seq: 9 });
      // The same row again (by id or by localId) is a duplicate, whatever seq it names.
      const again = await engine.messages.append(ns, session.id, {
        ...messageInput({ createdAt: T0 + 1 }),
        id: a.id,
        seq: 20,
      });
      expect(again).toMatchObject({ ok: true, inserted: false, message: { id: a.id, seq: 3 } });
      const byLocal = await engine.messages.append(
        ns,
        session.id,
        messageInput({ createdAt: T0 + 1, localId: 'l1', seq: 21 }),
      );
      expect(byLocal).toMatchObject({ ok: true, inserted: false, message: { id: a.id, seq: 3 } });
      expect(await engine.messages.listAfterSeq(ns, session.id, 9, 10)).toEqual([]);
    });
  });
}
