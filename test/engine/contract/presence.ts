// Contract of the presence store (engine.presence): keep-alives, live fields, the sweep.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/engine/engine.js';
import type { ExpiredPresence, RefreshPresenceInput } from '../../../src/engine/types.js';
import { appendInserted, createSession, type EngineHarness, messageInput, T0, uniqueNamespace } from './harness.js';

const THROTTLE_MS = 1_000;

function keepAlive(now: number, overrides: Partial<RefreshPresenceInput> = {}): RefreshPresenceInput {
  return { deadline: now + 30_000, activeAt: now, fields: {}, now, broadcastThrottleMs: THROTTLE_MS, ...overrides };
}

async function createMachine(engine: Engine, ns: string): Promise<string> {
  const id = randomUUID();
  await engine.machines.getOrCreate(ns, { id, metadata: null, runnerState: null }, T0);
  return id;
}

/**
 * Runs expiry sweeps at `now` until nothing is overdue and returns what was expired in this
 * namespace. Filtering by namespace keeps the suite correct on a store shared with other tests.
 */
async function sweepAll(engine: Engine, ns: string, now: number): Promise<ExpiredPresence[]> {
  const mine: ExpiredPresence[] = [];
  for (;;) {
    const batch = await engine.presence.expireOverdue(now, 50);
    if (batch.length === 0) return mine;
    mine.push(...batch.filter((entry) => entry.namespace === ns));
  }
}

export function describePresenceContract(harness: EngineHarness): void {
  describe('presence: refresh', () => {
    it('keeps presence per namespace for the same id: a twin beating never activates, holds or expires the owner', async () => {
      const engine = harness.engine();
      const owner = await createSession(engine, uniqueNamespace());
      const twinNs = uniqueNamespace();
      await engine.sessions.getOrCreate(twinNs, { id: owner.id, tag: 'twin', metadata: null, agentState: null }, T0);
      expect(
        await engine.presence.refresh(twinNs, 'session', owner.id, keepAlive(T0, { deadline: T0 + 10 })),
      ).toMatchObject({ found: true, becameActive: true });
      expect((await engine.sessions.get(owner.namespace, owner.id))?.live).toEqual({});
      expect(
        await engine.presence.refresh(owner.namespace, 'session', owner.id, keepAlive(T0, { deadline: T0 + 20 })),
      ).toMatchObject({ found: true, becameActive: true });
      expect(await sweepAll(engine, twinNs, T0 + 10)).toEqual([{ namespace: twinNs, kind: 'session', id: owner.id }]);
      expect((await engine.sessions.get(owner.namespace, owner.id))?.live.active).toBe(true);
      expect(await sweepAll(engine, owner.namespace, T0 + 20)).toEqual([
        { namespace: owner.namespace, kind: 'session', id: owner.id },
      ]);
    });

    it('reports not-found for unknown objects and objects of another namespace', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const machineId = await createMachine(engine, ns);
      const notFound = { found: false, becameActive: false, changed: [], broadcastDue: false, live: {}, queued: 0 };
      expect(await engine.presence.refresh(ns, 'session', randomUUID(), keepAlive(T0))).toEqual(notFound);
      expect(await engine.presence.refresh(uniqueNamespace(), 'session', session.id, keepAlive(T0))).toEqual(notFound);
      expect(await engine.presence.refresh(uniqueNamespace(), 'machine', machineId, keepAlive(T0))).toEqual(notFound);
      expect(await engine.presence.refresh(ns, 'machine', session.id, keepAlive(T0))).toEqual(notFound);
      expect((await engine.sessions.get(ns, session.id))?.live).toEqual({});
      expect(await sweepAll(engine, ns, T0 + 60_000)).toEqual([]);
    });

    it('activates on the first keep-alive and announces it', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const result = await engine.presence.refresh(
        ns,
        'session',
        session.id,
        keepAlive(T0, { fields: { thinking: false, permissionMode: 'default' } }),
      );
      expect(result.found).toBe(true);
      expect(result.becameActive).toBe(true);
      expect([...result.changed].sort()).toEqual(['active', 'permissionMode', 'thinking']);
      expect(result.broadcastDue).toBe(true);
      expect(result.live).toEqual({
        active: true,
        activeAt: T0,
        thinking: false,
        permissionMode: 'default',
        lastBroadcastAt: T0,
      });
      expect((await engine.sessions.get(ns, session.id))?.live).toEqual(result.live);
      expect((await engine.sessions.list(ns))[0]?.live).toEqual(result.live);
      expect(result.queued).toBe(0);
    });

    it('reports how many prompts are queued for the session (0 for machines)', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const machineId = await createMachine(engine, ns);
      const queue = (localId: string, createdAt: number) => messageInput({ localId, createdAt, invokedAt: null });
      await appendInserted(engine, ns, session.id, queue('q1', T0));
      await appendInserted(engine, ns, session.id, queue('q2', T0 + 1));
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: T0 + 2 }));
      expect((await engine.presence.refresh(ns, 'session', session.id, keepAlive(T0))).queued).toBe(2);
      await engine.messages.markInvoked(ns, session.id, ['q1'], T0 + 3);
      expect((await engine.presence.refresh(ns, 'session', session.id, keepAlive(T0 + 10))).queued).toBe(1);
      await engine.messages.markInvoked(ns, session.id, ['q2'], T0 + 4);
      expect((await engine.presence.refresh(ns, 'session', session.id, keepAlive(T0 + 20))).queued).toBe(0);
      expect((await engine.presence.refresh(ns, 'machine', machineId, keepAlive(T0))).queued).toBe(0);
    });

    it('stays quiet for an unchanged keep-alive inside the throttle window', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      await engine.presence.refresh(ns, 'session', session.id, keepAlive(T0, { fields: { thinking: false } }));
      const again = await engine.presence.refresh(
        ns,
        'session',
        session.id,
        keepAlive(T0 + 500, { fields: { thinking: false } }),
      );
      expect(again).toEqual({
        found: true,
        becameActive: false,
        changed: [],
        broadcastDue: false,
        live: { active: true, activeAt: T0 + 500, thinking: false, lastBroadcastAt: T0 },
        queued: 0,
      });
    });

    it('announces visible changes at once but quiet ones only when the throttle elapsed', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const quietFields = ['thinkingAt'];
      await engine.presence.refresh(
        ns,
        'session',
        session.id,
        keepAlive(T0, { fields: { thinking: false, thinkingAt: 0 }, quietFields }),
      );

      const quiet = await engine.presence.refresh(
        ns,
        'session',
        session.id,
        keepAlive(T0 + 100, { fields: { thinkingAt: 5 }, quietFields }),
      );
      expect(quiet).toMatchObject({ becameActive: false, changed: ['thinkingAt'], broadcastDue: false });
      expect(quiet.live).toMatchObject({ thinkingAt: 5, lastBroadcastAt: T0 });

      const visible = await engine.presence.refresh(
        ns,
        'session',
        session.id,
        keepAlive(T0 + 200, { fields: { thinking: true }, quietFields }),
      );
      expect(visible).toMatchObject({ changed: ['thinking'], broadcastDue: true });
      expect(visible.live).toMatchObject({ thinking: true, lastBroadcastAt: T0 + 200 });

      const justBefore = await engine.presence.refresh(
        ns,
        'session',
        session.id,
        keepAlive(T0 + 200 + THROTTLE_MS - 1, { quietFields }),
      );
      expect(justBefore.broadcastDue).toBe(false);
      const atThrottle = await engine.presence.refresh(
        ns,
        'session',
        session.id,
        keepAlive(T0 + 200 + THROTTLE_MS, { quietFields }),
      );
      expect(atThrottle).toMatchObject({ changed: [], broadcastDue: true });
      expect(atThrottle.live.lastBroadcastAt).toBe(T0 + 200 + THROTTLE_MS);
    });

    it('keeps activeAt at the newest value seen', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      await engine.presence.refresh(ns, 'session', session.id, keepAlive(T0, { activeAt: T0 + 900 }));
      const older = await engine.presence.refresh(
        ns,
        'session',
        session.id,
        keepAlive(T0 + 10, { activeAt: T0 + 100 }),
      );
      expect(older.live.activeAt).toBe(T0 + 900);
      expect(older.changed).toEqual([]);
    });

    it('tracks machines the same way', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const machineId = await createMachine(engine, ns);
      const health = JSON.stringify({ load: 0.5 });
      const result = await engine.presence.refresh(ns, 'machine', machineId, keepAlive(T0, { fields: { health } }));
      expect(result).toMatchObject({ found: true, becameActive: true, broadcastDue: true });
      expect((await engine.machines.get(ns, machineId))?.live).toEqual({
        active: true,
        activeAt: T0,
        health,
        lastBroadcastAt: T0,
      });
      expect((await engine.machines.list(ns))[0]?.live).toEqual(result.live);
    });
  });

  describe('presence: live fields and inactivity', () => {
    it('merges live fields without touching presence', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      await engine.presence.refresh(
        ns,
        'session',
        session.id,
        keepAlive(T0, { deadline: T0 + 10, fields: { thinking: true } }),
      );
      const live = await engine.presence.setLiveFields(ns, 'session', session.id, {
        thinking: false,
        activeTurnStartedAt: null,
      });
      expect(live).toEqual({
        active: true,
        activeAt: T0,
        thinking: false,
        activeTurnStartedAt: null,
        lastBroadcastAt: T0,
      });
      expect((await engine.sessions.get(ns, session.id))?.live).toEqual(live);
      expect(
        await engine.presence.setLiveFields(uniqueNamespace(), 'session', session.id, { thinking: true }),
      ).toBeNull();
      expect(await engine.presence.setLiveFields(ns, 'machine', randomUUID(), { x: 1 })).toBeNull();
      expect(await sweepAll(engine, ns, T0 + 10)).toEqual([{ namespace: ns, kind: 'session', id: session.id }]);
    });

    it('ends presence with markInactive and reports whether it was active', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      await engine.presence.refresh(
        ns,
        'session',
        session.id,
        keepAlive(T0, { deadline: T0 + 10, fields: { thinking: true } }),
      );
      expect(await engine.presence.markInactive(ns, 'session', session.id, { thinking: false })).toEqual({
        wasActive: true,
      });
      expect((await engine.sessions.get(ns, session.id))?.live).toMatchObject({ active: false, thinking: false });
      expect(await engine.presence.markInactive(ns, 'session', session.id, {})).toEqual({ wasActive: false });
      expect(await engine.presence.markInactive(uniqueNamespace(), 'session', session.id, {})).toEqual({
        wasActive: false,
      });
      expect(await sweepAll(engine, ns, T0 + 10)).toEqual([]);
      const back = await engine.presence.refresh(ns, 'session', session.id, keepAlive(T0 + 20));
      expect(back.becameActive).toBe(true);
    });
  });

  describe('presence: expireOverdue', () => {
    it('expires overdue entries once, marking them inactive (and not thinking for sessions)', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const due = await createSession(engine, ns);
      const later = await createSession(engine, ns);
      const machineId = await createMachine(engine, ns);
      await engine.presence.refresh(
        ns,
        'session',
        due.id,
        keepAlive(T0, { deadline: T0 + 100, fields: { thinking: true } }),
      );
      await engine.presence.refresh(ns, 'session', later.id, keepAlive(T0, { deadline: T0 + 500 }));
      await engine.presence.refresh(ns, 'machine', machineId, keepAlive(T0, { deadline: T0 + 100 }));

      const expired = await sweepAll(engine, ns, T0 + 100);
      const byId = (a: ExpiredPresence, b: ExpiredPresence) => a.id.localeCompare(b.id);
      const expected: ExpiredPresence[] = [
        { namespace: ns, kind: 'session', id: due.id },
        { namespace: ns, kind: 'machine', id: machineId },
      ];
      expect([...expired].sort(byId)).toEqual(expected.sort(byId));
      expect((await engine.sessions.get(ns, due.id))?.live).toMatchObject({ active: false, thinking: false });
      expect((await engine.machines.get(ns, machineId))?.live.active).toBe(false);
      expect((await engine.machines.get(ns, machineId))?.live).not.toHaveProperty('thinking');
      expect((await engine.sessions.get(ns, later.id))?.live.active).toBe(true);
      expect(await sweepAll(engine, ns, T0 + 100)).toEqual([]);

      const revived = await engine.presence.refresh(ns, 'session', due.id, keepAlive(T0 + 200));
      expect(revived.becameActive).toBe(true);
    });

    it('does not expire an entry refreshed to a later deadline', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      await engine.presence.refresh(ns, 'session', session.id, keepAlive(T0, { deadline: T0 + 100 }));
      await engine.presence.refresh(ns, 'session', session.id, keepAlive(T0 + 50, { deadline: T0 + 5_000 }));
      expect(await sweepAll(engine, ns, T0 + 1_000)).toEqual([]);
      expect((await engine.sessions.get(ns, session.id))?.live.active).toBe(true);
      expect(await sweepAll(engine, ns, T0 + 5_000)).toEqual([{ namespace: ns, kind: 'session', id: session.id }]);
    });

    it('keeps a session that beats for several lifetimes active, and expires it once when it stops', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const ttl = 30_000;
      // Beats every 5 s for 100 s (more than three times the time to live), sweeping as time passes.
      for (let at = T0; at <= T0 + 100_000; at += 5_000) {
        await engine.presence.refresh(ns, 'session', session.id, keepAlive(at, { deadline: at + ttl }));
        expect(await sweepAll(engine, ns, at)).toEqual([]);
      }
      expect((await engine.sessions.get(ns, session.id))?.live.active).toBe(true);
      const lastDeadline = T0 + 100_000 + ttl;
      expect(await sweepAll(engine, ns, lastDeadline - 1)).toEqual([]);
      expect(await sweepAll(engine, ns, lastDeadline)).toEqual([{ namespace: ns, kind: 'session', id: session.id }]);
      expect(await sweepAll(engine, ns, lastDeadline + ttl)).toEqual([]);
      expect((await engine.sessions.get(ns, session.id))?.live.active).toBe(false);
    });

    it('expires a session revived after an expiry at its new deadline', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      await engine.presence.refresh(ns, 'session', session.id, keepAlive(T0, { deadline: T0 + 100 }));
      expect(await sweepAll(engine, ns, T0 + 100)).toHaveLength(1);
      await engine.presence.refresh(ns, 'session', session.id, keepAlive(T0 + 200, { deadline: T0 + 300 }));
      await engine.presence.refresh(ns, 'session', session.id, keepAlive(T0 + 250, { deadline: T0 + 400 }));
      expect(await sweepAll(engine, ns, T0 + 399)).toEqual([]);
      expect(await sweepAll(engine, ns, T0 + 400)).toEqual([{ namespace: ns, kind: 'session', id: session.id }]);
      await engine.presence.markInactive(ns, 'session', session.id, {});
      const back = await engine.presence.refresh(
        ns,
        'session',
        session.id,
        keepAlive(T0 + 500, { deadline: T0 + 600 }),
      );
      expect(back.becameActive).toBe(true);
      expect(await sweepAll(engine, ns, T0 + 600)).toEqual([{ namespace: ns, kind: 'session', id: session.id }]);
    });

    it('returns at most `limit` entries per call', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      for (let i = 0; i < 5; i += 1) {
        const session = await createSession(engine, ns);
        await engine.presence.refresh(ns, 'session', session.id, keepAlive(T0, { deadline: T0 + 1 }));
      }
      const batch = await engine.presence.expireOverdue(T0 + 1, 2);
      expect(batch).toHaveLength(2);
      const rest = await sweepAll(engine, ns, T0 + 1);
      expect(batch.filter((entry) => entry.namespace === ns).length + rest.length).toBe(5);
    });

    it('hands each entry to exactly one of many concurrent sweeps', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const ids: string[] = [];
      for (let i = 0; i < 30; i += 1) {
        const session = await createSession(engine, ns);
        ids.push(session.id);
        await engine.presence.refresh(ns, 'session', session.id, keepAlive(T0, { deadline: T0 + 2 }));
      }
      const batches = await Promise.all(Array.from({ length: 10 }, () => engine.presence.expireOverdue(T0 + 2, 4)));
      const swept = batches.flat().filter((entry) => entry.namespace === ns);
      swept.push(...(await sweepAll(engine, ns, T0 + 2)));
      const sweptIds = swept.map((entry) => entry.id);
      expect(sweptIds).toHaveLength(30);
      expect([...sweptIds].sort()).toEqual([...ids].sort());
    });
  });
}
