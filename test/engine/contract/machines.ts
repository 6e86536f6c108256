// Contract of the machine store (engine.machines).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type EngineHarness, T0, uniqueNamespace } from './harness.js';

export function describeMachineContract(harness: EngineHarness): void {
  describe('machines', () => {
    it('creates a machine with the documented defaults', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const id = randomUUID();
      const result = await engine.machines.getOrCreate(
        ns,
        { id, metadata: { host: 'h1' }, runnerState: undefined },
        T0,
      );
      expect(result).toEqual({
        created: true,
        machine: {
          id,
          namespace: ns,
          createdAt: T0,
          updatedAt: T0,
          seq: 0,
          metadata: { host: 'h1' },
          metadataVersion: 1,
          runnerState: null,
          runnerStateVersion: 1,
          live: {},
        },
      });
      expect(await engine.machines.get(ns, id)).toEqual(result.machine);
    });

    it('returns an existing machine unchanged and never merges the new input', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const id = randomUUID();
      const first = await engine.machines.getOrCreate(ns, { id, metadata: { host: 'h1' }, runnerState: { s: 1 } }, T0);
      const second = await engine.machines.getOrCreate(
        ns,
        { id, metadata: { host: 'h2', extra: true }, runnerState: null },
        T0 + 99,
      );
      expect(second).toEqual({ created: false, machine: first.machine });
    });

    it("treats a machine id of another namespace as fresh: created, separate, the owner's row untouched", async () => {
      const engine = harness.engine();
      const id = randomUUID();
      const ns = uniqueNamespace();
      const owner = await engine.machines.getOrCreate(ns, { id, metadata: { owner: true }, runnerState: null }, T0);
      const otherNs = uniqueNamespace();
      const twin = await engine.machines.getOrCreate(
        otherNs,
        { id, metadata: { twin: true }, runnerState: null },
        T0 + 1,
      );
      expect(twin).toMatchObject({ created: true, machine: { id, namespace: otherNs, metadata: { twin: true } } });
      expect(
        (await engine.machines.compareAndSet(otherNs, id, 'runnerState', 1, { twin: 1 }, { now: T0 + 2 })).result,
      ).toBe('success');
      expect(await engine.machines.get(ns, id)).toEqual(owner.machine);
      expect((await engine.machines.list(otherNs)).map((machine) => machine.id)).toEqual([id]);
      expect((await engine.machines.list(ns)).map((machine) => machine.id)).toEqual([id]);
    });

    it('creates exactly one machine when the same id races', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const id = randomUUID();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          engine.machines.getOrCreate(ns, { id, metadata: { caller: i }, runnerState: null }, T0 + i),
        ),
      );
      const created = results.filter((r) => r.created);
      expect(created).toHaveLength(1);
      const winner = created[0];
      if (!winner) throw new Error('no winner');
      for (const result of results) expect(result).toMatchObject({ machine: winner.machine });
    });

    it('gets (and finds) by id only in its own namespace and lists only the namespace', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const ids = [randomUUID(), randomUUID()];
      for (const id of ids) await engine.machines.getOrCreate(ns, { id, metadata: null, runnerState: null }, T0);
      const foreignId = randomUUID();
      const foreignNs = uniqueNamespace();
      await engine.machines.getOrCreate(foreignNs, { id: foreignId, metadata: null, runnerState: null }, T0);
      expect((await engine.machines.list(ns)).map((m) => m.id).sort()).toEqual([...ids].sort());
      expect(await engine.machines.get(ns, foreignId)).toBeNull();
      expect((await engine.machines.get(foreignNs, foreignId))?.namespace).toBe(foreignNs);
      expect(await engine.machines.get(ns, randomUUID())).toBeNull();
      expect(await engine.machines.exists(ns, ids[0]!)).toBe(true);
      expect(await engine.machines.exists(ns, foreignId)).toBe(false);
      expect(await engine.machines.exists(foreignNs, foreignId)).toBe(true);
      expect(await engine.machines.exists(ns, randomUUID())).toBe(false);
    });

    it('compare-and-sets metadata and runnerState with updatedAt = now', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const id = randomUUID();
      await engine.machines.getOrCreate(ns, { id, metadata: { host: 'h1' }, runnerState: null }, T0);
      const runner = { status: 'running', pid: 42 };
      expect(await engine.machines.compareAndSet(ns, id, 'runnerState', 1, runner, { now: T0 + 30 })).toEqual({
        result: 'success',
        version: 2,
        value: runner,
      });
      expect(await engine.machines.compareAndSet(ns, id, 'metadata', 1, { host: 'h2' }, { now: T0 + 40 })).toEqual({
        result: 'success',
        version: 2,
        value: { host: 'h2' },
      });
      expect(await engine.machines.get(ns, id)).toMatchObject({
        runnerState: runner,
        runnerStateVersion: 2,
        metadata: { host: 'h2' },
        metadataVersion: 2,
        seq: 2,
        updatedAt: T0 + 40,
      });
    });

    it('answers stale versions and foreign namespaces without writing', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const id = randomUUID();
      await engine.machines.getOrCreate(ns, { id, metadata: { host: 'h1' }, runnerState: null }, T0);
      expect(await engine.machines.compareAndSet(ns, id, 'metadata', 7, { host: 'x' }, { now: T0 + 1 })).toEqual({
        result: 'version-mismatch',
        version: 1,
        value: { host: 'h1' },
      });
      expect(await engine.machines.compareAndSet(uniqueNamespace(), id, 'metadata', 1, {}, { now: T0 + 1 })).toEqual({
        result: 'not-found',
      });
      expect(await engine.machines.compareAndSet(ns, randomUUID(), 'metadata', 1, {}, { now: T0 + 1 })).toEqual({
        result: 'not-found',
      });
      expect(await engine.machines.get(ns, id)).toMatchObject({
        metadata: { host: 'h1' },
        metadataVersion: 1,
        seq: 0,
        updatedAt: T0,
      });
    });

    it('lets exactly one of many racing machine writers win', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const id = randomUUID();
      await engine.machines.getOrCreate(ns, { id, metadata: null, runnerState: null }, T0);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          engine.machines.compareAndSet(ns, id, 'runnerState', 1, { writer: i }, { now: T0 + i }),
        ),
      );
      expect(results.filter((r) => r.result === 'success')).toHaveLength(1);
      expect(results.filter((r) => r.result === 'version-mismatch')).toHaveLength(19);
      expect(await engine.machines.get(ns, id)).toMatchObject({ runnerStateVersion: 2, seq: 1 });
    });
  });
}
