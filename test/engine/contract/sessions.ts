// Contract of the session store (engine.sessions).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  appendInserted,
  createSession,
  type EngineHarness,
  messageInput,
  T0,
  uniqueName,
  uniqueNamespace,
} from './harness.js';

export function describeSessionContract(harness: EngineHarness): void {
  describe('sessions: getOrCreate', () => {
    it('creates a session with the documented defaults', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const tag = uniqueName('tag');
      const result = await engine.sessions.getOrCreate(
        ns,
        { tag, metadata: { path: '/a' }, agentState: undefined },
        T0,
      );
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.created).toBe(true);
      expect(result.session).toEqual({
        id: expect.any(String),
        namespace: ns,
        tag,
        createdAt: T0,
        updatedAt: T0,
        seq: 0,
        metadata: { path: '/a' },
        metadataVersion: 1,
        agentState: null,
        agentStateVersion: 1,
        model: null,
        modelReasoningEffort: null,
        effort: null,
        serviceTier: null,
        pinned: false,
        globalPinned: false,
        live: {},
      });
      expect(result.session.id.length).toBeGreaterThan(0);
      expect(await engine.sessions.get(ns, result.session.id)).toEqual(result.session);
    });

    it('uses the given id, agentState and model columns', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const id = randomUUID();
      const result = await engine.sessions.getOrCreate(
        ns,
        {
          id,
          tag: uniqueName('tag'),
          metadata: null,
          agentState: { requests: {} },
          model: 'opus',
          modelReasoningEffort: 'high',
          effort: 'max',
        },
        T0,
      );
      expect(result).toMatchObject({
        ok: true,
        created: true,
        session: {
          id,
          agentState: { requests: {} },
          model: 'opus',
          modelReasoningEffort: 'high',
          effort: 'max',
          metadata: null,
        },
      });
    });

    it('returns the existing session for a known tag unchanged, ignoring the new input', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const tag = uniqueName('tag');
      const first = await engine.sessions.getOrCreate(ns, { tag, metadata: { v: 1 }, agentState: null }, T0);
      const second = await engine.sessions.getOrCreate(
        ns,
        { tag, metadata: { v: 2 }, agentState: { x: 1 }, model: 'other' },
        T0 + 50,
      );
      if (!first.ok || !second.ok) throw new Error('expected ok results');
      expect(second.created).toBe(false);
      expect(second.session).toEqual(first.session);
      const withSameId = await engine.sessions.getOrCreate(
        ns,
        { id: first.session.id, tag, metadata: {}, agentState: null },
        T0 + 60,
      );
      expect(withSameId).toEqual({ ok: true, created: false, session: first.session });
    });

    it('refuses a known tag with a different id', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const result = await engine.sessions.getOrCreate(
        ns,
        { id: randomUUID(), tag: session.tag, metadata: null, agentState: null },
        T0,
      );
      expect(result).toEqual({ ok: false, reason: 'tag-bound-to-other-id' });
      expect(await engine.sessions.list(ns)).toHaveLength(1);
    });

    it('refuses an id already used by another tag of the same namespace', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const otherTag = await engine.sessions.getOrCreate(
        ns,
        { id: session.id, tag: uniqueName('tag'), metadata: null, agentState: null },
        T0,
      );
      expect(otherTag).toEqual({ ok: false, reason: 'id-bound-to-other-session' });
    });

    it("treats an id of another namespace as fresh: created, separate, and the owner's row untouched", async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns, T0);
      const otherNs = uniqueNamespace();
      const twin = await engine.sessions.getOrCreate(
        otherNs,
        { id: session.id, tag: uniqueName('tag'), metadata: { twin: true }, agentState: null },
        T0 + 5,
      );
      expect(twin).toMatchObject({
        ok: true,
        created: true,
        session: { id: session.id, namespace: otherNs, metadata: { twin: true }, createdAt: T0 + 5 },
      });
      expect(await engine.sessions.get(ns, session.id)).toEqual(session);
      expect((await engine.sessions.list(otherNs)).map((row) => row.id)).toEqual([session.id]);
      expect(
        (
          await engine.sessions.compareAndSet(
            otherNs,
            session.id,
            'metadata',
            1,
            { by: 'twin' },
            { now: T0 + 6, touchUpdatedAt: true },
          )
        ).result,
      ).toBe('success');
      expect(await engine.sessions.get(ns, session.id)).toEqual(session);
      expect(await engine.sessions.delete(otherNs, session.id)).toBe(true);
      expect(await engine.sessions.get(ns, session.id)).toEqual(session);
    });

    it('scopes tags per namespace', async () => {
      const engine = harness.engine();
      const tag = uniqueName('tag');
      const a = await engine.sessions.getOrCreate(uniqueNamespace(), { tag, metadata: null, agentState: null }, T0);
      const b = await engine.sessions.getOrCreate(uniqueNamespace(), { tag, metadata: null, agentState: null }, T0);
      if (!a.ok || !b.ok) throw new Error('expected ok results');
      expect(a.created && b.created).toBe(true);
      expect(a.session.id).not.toBe(b.session.id);
    });

    it('creates exactly one session when the same tag races', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const tag = uniqueName('tag');
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          engine.sessions.getOrCreate(ns, { tag, metadata: { caller: i }, agentState: null }, T0 + i),
        ),
      );
      const sessions = results.map((result) => {
        if (!result.ok) throw new Error(result.reason);
        return result;
      });
      expect(sessions.filter((result) => result.created)).toHaveLength(1);
      expect(new Set(sessions.map((result) => result.session.id)).size).toBe(1);
      expect(await engine.sessions.list(ns)).toHaveLength(1);
    });
  });

  describe('sessions: reads and copies', () => {
    it('finds a session by id only in its own namespace and lists only the namespace', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const otherNs = uniqueNamespace();
      const a = await createSession(engine, ns);
      const b = await createSession(engine, ns);
      const foreign = await createSession(engine, otherNs);
      expect(await engine.sessions.get(ns, foreign.id)).toBeNull();
      expect(await engine.sessions.get(otherNs, foreign.id)).toEqual(foreign);
      expect(await engine.sessions.get(ns, randomUUID())).toBeNull();
      const listed = await engine.sessions.list(ns);
      expect(listed.map((s) => s.id).sort()).toEqual([a.id, b.id].sort());
      expect(await engine.sessions.list(uniqueNamespace())).toEqual([]);
    });

    it('never lets callers mutate stored documents', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const metadata = { path: '/a', nested: { n: 1 } };
      const result = await engine.sessions.getOrCreate(ns, { tag: uniqueName('tag'), metadata, agentState: null }, T0);
      if (!result.ok) throw new Error(result.reason);
      metadata.nested.n = 99;
      (result.session.metadata as { path: string }).path = '/mutated';
      result.session.live.active = true;
      const fetched = await engine.sessions.get(ns, result.session.id);
      expect(fetched?.metadata).toEqual({ path: '/a', nested: { n: 1 } });
      expect(fetched?.live).toEqual({});
      (fetched?.metadata as { path: string }).path = '/again';
      expect((await engine.sessions.list(ns))[0]?.metadata).toEqual({ path: '/a', nested: { n: 1 } });

      const updated = await engine.sessions.updateColumns(ns, result.session.id, { model: 'm' });
      if (updated) (updated.metadata as { path: string }).path = '/via-update';
      expect((await engine.sessions.get(ns, result.session.id))?.metadata).toEqual({ path: '/a', nested: { n: 1 } });
      const written = { path: '/cas' };
      const cas = await engine.sessions.compareAndSet(ns, result.session.id, 'metadata', 1, written, {
        now: T0,
        touchUpdatedAt: true,
      });
      written.path = '/mutated-input';
      if (cas.result === 'success') (cas.value as { path: string }).path = '/mutated-result';
      expect((await engine.sessions.get(ns, result.session.id))?.metadata).toEqual({ path: '/cas' });
    });
  });

  describe('sessions: compareAndSet', () => {
    it('stores the value verbatim and bumps version and seq', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const value = { path: '/b', list: [1, 'two', null, { deep: true }], unicode: 'héllo ✓' };
      const result = await engine.sessions.compareAndSet(ns, session.id, 'metadata', 1, value, {
        now: T0 + 10,
        touchUpdatedAt: true,
      });
      expect(result).toEqual({ result: 'success', version: 2, value });
      const stored = await engine.sessions.get(ns, session.id);
      expect(stored).toMatchObject({
        metadata: value,
        metadataVersion: 2,
        agentStateVersion: 1,
        seq: 1,
        updatedAt: T0 + 10,
      });
      const agent = await engine.sessions.compareAndSet(ns, session.id, 'agentState', 1, null, {
        now: T0 + 20,
        touchUpdatedAt: true,
      });
      expect(agent).toEqual({ result: 'success', version: 2, value: null });
      expect(await engine.sessions.get(ns, session.id)).toMatchObject({
        agentState: null,
        agentStateVersion: 2,
        metadataVersion: 2,
        seq: 2,
      });
    });

    it('moves updatedAt only forward and only when asked', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns, T0 + 100);
      await engine.sessions.compareAndSet(
        ns,
        session.id,
        'metadata',
        1,
        { a: 1 },
        { now: T0 + 500, touchUpdatedAt: false },
      );
      expect((await engine.sessions.get(ns, session.id))?.updatedAt).toBe(T0 + 100);
      await engine.sessions.compareAndSet(
        ns,
        session.id,
        'metadata',
        2,
        { a: 2 },
        { now: T0 + 50, touchUpdatedAt: true },
      );
      expect((await engine.sessions.get(ns, session.id))?.updatedAt).toBe(T0 + 100);
      await engine.sessions.compareAndSet(
        ns,
        session.id,
        'metadata',
        3,
        { a: 3 },
        { now: T0 + 700, touchUpdatedAt: true },
      );
      expect((await engine.sessions.get(ns, session.id))?.updatedAt).toBe(T0 + 700);
    });

    it('answers a stale version with the stored version and value, changing nothing', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      await engine.sessions.compareAndSet(
        ns,
        session.id,
        'metadata',
        1,
        { current: true },
        { now: T0, touchUpdatedAt: true },
      );
      const stale = await engine.sessions.compareAndSet(
        ns,
        session.id,
        'metadata',
        1,
        { current: false },
        { now: T0 + 5, touchUpdatedAt: true },
      );
      expect(stale).toEqual({ result: 'version-mismatch', version: 2, value: { current: true } });
      expect(await engine.sessions.get(ns, session.id)).toMatchObject({
        metadata: { current: true },
        metadataVersion: 2,
        seq: 1,
      });
    });

    it('answers not-found for an unknown id or another namespace', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const opts = { now: T0, touchUpdatedAt: true };
      expect(await engine.sessions.compareAndSet(ns, randomUUID(), 'metadata', 1, {}, opts)).toEqual({
        result: 'not-found',
      });
      expect(await engine.sessions.compareAndSet(uniqueNamespace(), session.id, 'metadata', 1, {}, opts)).toEqual({
        result: 'not-found',
      });
      expect(await engine.sessions.get(ns, session.id)).toMatchObject({ metadataVersion: 1, seq: 0 });
    });

    it('lets exactly one of many racing writers with the same version win', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          engine.sessions.compareAndSet(
            ns,
            session.id,
            'agentState',
            1,
            { writer: i },
            { now: T0 + i, touchUpdatedAt: true },
          ),
        ),
      );
      const winners = results.filter((r) => r.result === 'success');
      expect(winners).toHaveLength(1);
      const winner = winners[0];
      if (winner?.result !== 'success') throw new Error('no winner');
      expect(winner.version).toBe(2);
      for (const loser of results.filter((r) => r.result !== 'success')) {
        expect(loser).toEqual({ result: 'version-mismatch', version: 2, value: winner.value });
      }
      expect(await engine.sessions.get(ns, session.id)).toMatchObject({
        agentState: winner.value,
        agentStateVersion: 2,
        seq: 1,
      });
    });
  });

  describe('sessions: attached sockets', () => {
    const attachedAt = async (
      engine: ReturnType<EngineHarness['engine']>,
      ns: string,
      sessionId: string,
      createdAt: number,
    ) => {
      const result = await engine.messages.append(ns, sessionId, messageInput({ createdAt }));
      if (!result.ok) throw new Error(`append failed: ${result.reason}`);
      return result.attachedSockets;
    };

    it('counts joins and leaves, never below zero, and reports the count with each append', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      expect(await attachedAt(engine, ns, session.id, T0)).toBe(0);
      await engine.sessions.adjustAttachedSockets(ns, session.id, 1);
      await engine.sessions.adjustAttachedSockets(ns, session.id, 1);
      expect(await attachedAt(engine, ns, session.id, T0 + 1)).toBe(2);
      await engine.sessions.adjustAttachedSockets(ns, session.id, -1);
      expect(await attachedAt(engine, ns, session.id, T0 + 2)).toBe(1);
      await engine.sessions.adjustAttachedSockets(ns, session.id, -1);
      await engine.sessions.adjustAttachedSockets(ns, session.id, -1);
      expect(await attachedAt(engine, ns, session.id, T0 + 3)).toBe(0);
      await engine.sessions.adjustAttachedSockets(ns, session.id, 1);
      expect(await attachedAt(engine, ns, session.id, T0 + 4)).toBe(1);
      // A duplicate (same localId) reports the count too.
      const queued = messageInput({ createdAt: T0 + 5, localId: 'dup', invokedAt: null });
      await appendInserted(engine, ns, session.id, queued);
      expect(await engine.messages.append(ns, session.id, { ...queued, id: randomUUID() })).toMatchObject({
        ok: true,
        inserted: false,
        attachedSockets: 1,
      });
    });

    it('leaves unknown and foreign sessions alone, and does not change the row', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const before = await engine.sessions.get(ns, session.id);
      await engine.sessions.adjustAttachedSockets(uniqueNamespace(), session.id, 1);
      const missing = randomUUID();
      await engine.sessions.adjustAttachedSockets(ns, missing, 1);
      expect(await engine.sessions.get(ns, missing)).toBeNull();
      expect(await engine.sessions.list(ns)).toHaveLength(1);
      await engine.sessions.adjustAttachedSockets(ns, session.id, 1);
      expect(await engine.sessions.get(ns, session.id)).toEqual(before);
      expect(await attachedAt(engine, ns, session.id, T0)).toBe(1);
    });
  });

  describe('sessions: columns and delete', () => {
    it('updates columns, bumps seq and applies updatedAt max-monotonic', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns, T0 + 100);
      const updated = await engine.sessions.updateColumns(ns, session.id, {
        model: 'sonnet',
        pinned: true,
        serviceTier: 'flex',
      });
      expect(updated).toMatchObject({
        model: 'sonnet',
        pinned: true,
        serviceTier: 'flex',
        globalPinned: false,
        effort: null,
        seq: 1,
        updatedAt: T0 + 100,
      });
      const older = await engine.sessions.updateColumns(ns, session.id, { updatedAt: T0 + 10, effort: 'low' });
      expect(older).toMatchObject({ effort: 'low', model: 'sonnet', updatedAt: T0 + 100, seq: 2 });
      const newer = await engine.sessions.updateColumns(ns, session.id, {
        updatedAt: T0 + 900,
        globalPinned: true,
        modelReasoningEffort: 'xhigh',
      });
      expect(newer).toMatchObject({ updatedAt: T0 + 900, globalPinned: true, modelReasoningEffort: 'xhigh', seq: 3 });
      const cleared = await engine.sessions.updateColumns(ns, session.id, { model: null, pinned: false });
      expect(cleared).toMatchObject({ model: null, pinned: false, seq: 4 });
      expect(await engine.sessions.get(ns, session.id)).toEqual(cleared);
    });

    it('returns null when updating columns of an unknown or foreign session', async () => {
      const engine = harness.engine();
      const session = await createSession(engine, uniqueNamespace());
      expect(await engine.sessions.updateColumns(uniqueNamespace(), session.id, { model: 'x' })).toBeNull();
      expect(await engine.sessions.updateColumns(session.namespace, randomUUID(), { model: 'x' })).toBeNull();
      expect(await engine.sessions.get(session.namespace, session.id)).toMatchObject({ model: null, seq: 0 });
    });

    it('deletes the session, its messages and its presence, and frees the tag', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: T0 }));
      await engine.presence.refresh(ns, 'session', session.id, {
        deadline: T0 + 10,
        activeAt: T0,
        fields: {},
        now: T0,
        broadcastThrottleMs: 1000,
      });

      expect(await engine.sessions.delete(uniqueNamespace(), session.id)).toBe(false);
      expect(await engine.sessions.get(ns, session.id)).not.toBeNull();
      expect(await engine.sessions.delete(ns, session.id)).toBe(true);
      expect(await engine.sessions.delete(ns, session.id)).toBe(false);

      expect(await engine.sessions.get(ns, session.id)).toBeNull();
      expect(await engine.sessions.list(ns)).toEqual([]);
      expect(await engine.messages.listAfterSeq(ns, session.id, 0, 100)).toEqual([]);
      expect(await engine.messages.append(ns, session.id, messageInput({ createdAt: T0 }))).toEqual({
        ok: false,
        reason: 'session-not-found',
      });
      const expired = await drainOverdue(harness, T0 + 10);
      expect(expired.filter((entry) => entry.id === session.id)).toEqual([]);

      const again = await engine.sessions.getOrCreate(
        ns,
        { tag: session.tag, metadata: null, agentState: null },
        T0 + 20,
      );
      expect(again).toMatchObject({ ok: true, created: true });
      if (again.ok) expect(again.session.id).not.toBe(session.id);
    });
  });
}

/** Expires everything overdue at `now`, in batches, until nothing is left. */
async function drainOverdue(harness: EngineHarness, now: number) {
  const all = [];
  for (;;) {
    const batch = await harness.engine().presence.expireOverdue(now, 100);
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}
