// Contract of PresenceStore.refreshMany (coalesced keep-alives): a batch gives every beat the
// result a lone refresh would, in order, and leaves the same state, deadlines and expiries.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/engine/engine.js';
import type {
  ExpiredPresence,
  PresenceKind,
  PresenceRefreshRequest,
  RefreshPresenceInput,
} from '../../../src/engine/types.js';
import { appendInserted, createSession, type EngineHarness, messageInput, T0, uniqueNamespace } from './harness.js';

const THROTTLE_MS = 1_000;
const TTL_MS = 30_000;

function keepAlive(now: number, overrides: Partial<RefreshPresenceInput> = {}): RefreshPresenceInput {
  return { deadline: now + TTL_MS, activeAt: now, fields: {}, now, broadcastThrottleMs: THROTTLE_MS, ...overrides };
}

async function sweepAll(engine: Engine, ns: string, now: number): Promise<ExpiredPresence[]> {
  const mine: ExpiredPresence[] = [];
  for (let round = 0; round < 100; round += 1) {
    const batch = await engine.presence.expireOverdue(now, 50);
    if (batch.length === 0) break;
    mine.push(...batch.filter((entry) => entry.namespace === ns));
  }
  return mine.sort((a, b) => `${a.kind}${a.id}`.localeCompare(`${b.kind}${b.id}`));
}

/** The same objects (ids) in a fresh namespace: one world per way of applying the beats. */
interface World {
  ns: string;
  sessions: string[];
  machine: string;
}

async function buildWorld(engine: Engine, sessionIds: string[], machineId: string): Promise<World> {
  const ns = uniqueNamespace();
  for (const id of sessionIds) {
    await engine.sessions.getOrCreate(ns, { id, tag: id, metadata: null, agentState: null }, T0);
  }
  await engine.machines.getOrCreate(ns, { id: machineId, metadata: null, runnerState: null }, T0);
  // Two queued prompts on the first session, so batches report queue counts too.
  const first = sessionIds[0] as string;
  await appendInserted(engine, ns, first, messageInput({ localId: 'q1', createdAt: T0, invokedAt: null }));
  await appendInserted(engine, ns, first, messageInput({ localId: 'q2', createdAt: T0 + 1, invokedAt: null }));
  return { ns, sessions: sessionIds, machine: machineId };
}

interface Beat {
  kind: PresenceKind;
  /** index into world.sessions, or -1 for the machine, or -2 for an unknown id */
  target: number;
  input: RefreshPresenceInput;
}

function requestOf(world: World, beat: Beat, unknownId: string): PresenceRefreshRequest {
  const id =
    beat.target === -1 ? world.machine : beat.target === -2 ? unknownId : (world.sessions[beat.target] as string);
  return { namespace: world.ns, kind: beat.kind, id, input: beat.input };
}

async function liveOf(engine: Engine, world: World) {
  const sessions = await Promise.all(world.sessions.map(async (id) => (await engine.sessions.get(world.ns, id))?.live));
  return { sessions, machine: (await engine.machines.get(world.ns, world.machine))?.live };
}

export function describePresenceBatchContract(harness: EngineHarness): void {
  describe('presence: refreshMany (coalesced keep-alives)', () => {
    it('gives each beat of a batch the result of refreshing alone, in order, and leaves the same state', async () => {
      const engine = harness.engine();
      const sessionIds = [randomUUID(), randomUUID(), randomUUID()];
      const machineId = randomUUID();
      const unknownId = randomUUID();
      const quietFields = ['thinkingAt'];
      // Rounds of beats: activation, duplicates of one id in a batch, quiet and visible changes,
      // the throttle elapsing, an older activeAt, an unknown id, a machine.
      const rounds: Beat[][] = [
        [
          {
            kind: 'session',
            target: 0,
            input: keepAlive(T0, { fields: { thinking: false, thinkingAt: 0 }, quietFields }),
          },
          { kind: 'session', target: 1, input: keepAlive(T0, { fields: { thinking: true } }) },
          { kind: 'machine', target: -1, input: keepAlive(T0, { fields: { health: '{"load":1}' } }) },
          { kind: 'session', target: -2, input: keepAlive(T0) },
          { kind: 'session', target: 0, input: keepAlive(T0 + 1, { fields: { thinkingAt: 7 }, quietFields }) },
        ],
        [
          { kind: 'session', target: 0, input: keepAlive(T0 + 100, { fields: { thinkingAt: 8 }, quietFields }) },
          { kind: 'session', target: 1, input: keepAlive(T0 + 100, { activeAt: T0 - 50 }) },
          { kind: 'session', target: 2, input: keepAlive(T0 + 100) },
          { kind: 'session', target: 1, input: keepAlive(T0 + 200, { fields: { thinking: false } }) },
          { kind: 'machine', target: -1, input: keepAlive(T0 + 100, { fields: { health: '{"load":1}' } }) },
        ],
        [
          { kind: 'session', target: 0, input: keepAlive(T0 + THROTTLE_MS, { quietFields }) },
          { kind: 'session', target: 2, input: keepAlive(T0 + 100 + THROTTLE_MS - 1) },
          { kind: 'machine', target: -1, input: keepAlive(T0 + 1_500, { deadline: T0 + 1_600 }) },
          { kind: 'session', target: 2, input: keepAlive(T0 + 100 + THROTTLE_MS) },
        ],
      ];
      const alone = await buildWorld(engine, sessionIds, machineId);
      const batched = await buildWorld(engine, sessionIds, machineId);
      for (const round of rounds) {
        const expected = [];
        for (const beat of round) {
          const request = requestOf(alone, beat, unknownId);
          expected.push(await engine.presence.refresh(request.namespace, request.kind, request.id, request.input));
        }
        const got = await engine.presence.refreshMany(round.map((beat) => requestOf(batched, beat, unknownId)));
        expect(got).toEqual(expected);
      }
      expect(await liveOf(engine, batched)).toEqual(await liveOf(engine, alone));
      // Same deadlines: the same objects expire at the same moments, once each.
      // One sweep serves both worlds (a sweep expires every namespace's overdue entries).
      for (const at of [T0 + 1_600, T0 + TTL_MS + 1, T0 + TTL_MS + 200, T0 + TTL_MS + 10_000]) {
        const swept: ExpiredPresence[] = [];
        for (let round = 0; round < 100; round += 1) {
          const batch = await engine.presence.expireOverdue(at, 50);
          if (batch.length === 0) break;
          swept.push(...batch);
        }
        const of = (ns: string) =>
          swept
            .filter((entry) => entry.namespace === ns)
            .map((entry) => `${entry.kind}:${entry.id}`)
            .sort();
        expect(of(batched.ns)).toEqual(of(alone.ns));
        if (at === T0 + 1_600) expect(of(batched.ns)).toEqual([`machine:${machineId}`]);
      }
      expect(await liveOf(engine, batched)).toEqual(await liveOf(engine, alone));
      expect((await liveOf(engine, batched)).sessions.every((live) => live?.active === false)).toBe(true);
    });

    it('reports not-found per item without failing the rest of the batch, and an empty batch is empty', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      expect(await engine.presence.refreshMany([])).toEqual([]);
      const results = await engine.presence.refreshMany([
        { namespace: ns, kind: 'session', id: randomUUID(), input: keepAlive(T0) },
        { namespace: uniqueNamespace(), kind: 'session', id: session.id, input: keepAlive(T0) },
        { namespace: ns, kind: 'session', id: session.id, input: keepAlive(T0) },
      ]);
      expect(results.map((result) => result.found)).toEqual([false, false, true]);
      expect(results[2]).toMatchObject({ becameActive: true, broadcastDue: true, queued: 0 });
    });

    it('keeps sessions that beat in batches for several lifetimes active, and expires each once when they stop', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const sessions = await Promise.all(Array.from({ length: 20 }, () => createSession(engine, ns)));
      const end = T0 + 100_000;
      for (let at = T0; at <= end; at += 5_000) {
        const results = await engine.presence.refreshMany(
          sessions.map((session) => ({ namespace: ns, kind: 'session', id: session.id, input: keepAlive(at) })),
        );
        expect(results.every((result) => result.found)).toBe(true);
        expect(results.every((result) => result.becameActive === (at === T0))).toBe(true);
        expect(await sweepAll(engine, ns, at)).toEqual([]);
      }
      expect(await sweepAll(engine, ns, end + TTL_MS - 1)).toEqual([]);
      const expired = await sweepAll(engine, ns, end + TTL_MS);
      expect(expired.map((entry) => entry.id).sort()).toEqual(sessions.map((session) => session.id).sort());
      expect(await sweepAll(engine, ns, end + 2 * TTL_MS)).toEqual([]);
      const again = await engine.presence.refreshMany([
        { namespace: ns, kind: 'session', id: (sessions[0] as { id: string }).id, input: keepAlive(end + 2 * TTL_MS) },
      ]);
      expect(again[0]?.becameActive).toBe(true);
    });

    it('applies batches from many callers at once without losing or duplicating an expiry', async () => {
      const engine = harness.engine();
      const nsA = uniqueNamespace();
      const nsB = uniqueNamespace();
      const a = await Promise.all(Array.from({ length: 10 }, () => createSession(engine, nsA)));
      const b = await Promise.all(Array.from({ length: 10 }, () => createSession(engine, nsB)));
      const beat = (ns: string, id: string) => ({
        namespace: ns,
        kind: 'session' as const,
        id,
        input: keepAlive(T0, { deadline: T0 + 10 }),
      });
      const batches = await Promise.all([
        engine.presence.refreshMany([...a.map((s) => beat(nsA, s.id)), ...b.map((s) => beat(nsB, s.id))]),
        engine.presence.refreshMany(b.map((s) => beat(nsB, s.id))),
      ]);
      expect(batches.flat().every((result) => result.found)).toBe(true);
      // Exactly one of the two beats of each b session activated it.
      const activations = batches.flat().filter((result) => result.becameActive).length;
      expect(activations).toBe(20);
      // One sweep round expires both namespaces' entries (sweepAll keeps only the one asked for).
      const swept = await Promise.all([engine.presence.expireOverdue(T0 + 10, 500)]);
      const count = (ns: string) => swept.flat().filter((entry) => entry.namespace === ns).length;
      expect([count(nsA), count(nsB)]).toEqual([10, 10]);
      expect(await sweepAll(engine, nsB, T0 + 10)).toEqual([]);
    });
  });
}
