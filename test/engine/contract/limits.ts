// Contract of the limits store (engine.limits): overrides, token buckets, leases, usage counters.
import { describe, expect, it } from 'vitest';
import { type EngineHarness, T0, uniqueNamespace } from './harness.js';

export function describeLimitContract(harness: EngineHarness): void {
  describe('limits', () => {
    it('sets, merges, removes and lists per-namespace overrides', async () => {
      const { limits } = harness.engine();
      const [a, b] = [uniqueNamespace(), uniqueNamespace()];
      expect(await limits.overrides(a)).toEqual({});
      expect(await limits.setOverrides(a, { connections: 5, sessions: 7 })).toEqual({ connections: 5, sessions: 7 });
      expect(await limits.setOverrides(a, { sessions: null, machines: 2 })).toEqual({ connections: 5, machines: 2 });
      await limits.setOverrides(b, { historyBytes: 1024 });
      expect(await limits.overrides(a)).toEqual({ connections: 5, machines: 2 });
      const listed = (await limits.listOverrides()).filter((entry) => entry.namespace === a || entry.namespace === b);
      expect(listed).toEqual(
        [
          { namespace: a, overrides: { connections: 5, machines: 2 } },
          { namespace: b, overrides: { historyBytes: 1024 } },
        ].sort((x, y) => (x.namespace < y.namespace ? -1 : 1)),
      );
      expect(await limits.setOverrides(b, { historyBytes: null })).toEqual({});
      expect((await limits.listOverrides()).some((entry) => entry.namespace === b)).toBe(false);
    });

    it('takes from a token bucket that starts full and refills with time', async () => {
      const { limits } = harness.engine();
      const ns = uniqueNamespace();
      const spec = { ratePerSec: 10, capacity: 20 };
      expect(await limits.take(ns, 'events', spec, 15, 1, T0)).toEqual({ granted: 15, retryAfterMs: 0 });
      // 5 left: a batch asks for 15 and gets what is there.
      expect(await limits.take(ns, 'events', spec, 15, 1, T0)).toEqual({ granted: 5, retryAfterMs: 0 });
      // Empty: 1 token comes back in 100 ms at 10/s.
      expect(await limits.take(ns, 'events', spec, 1, 1, T0)).toEqual({ granted: 0, retryAfterMs: 100 });
      // 500 ms later: 5 tokens.
      expect(await limits.take(ns, 'events', spec, 100, 1, T0 + 500)).toEqual({ granted: 5, retryAfterMs: 0 });
      // A take that needs at least 3 waits for them.
      expect(await limits.take(ns, 'events', spec, 3, 3, T0 + 600)).toEqual({ granted: 0, retryAfterMs: 200 });
      // Never more than the capacity, however long it was idle.
      expect(await limits.take(ns, 'events', spec, 1000, 1, T0 + 3_600_000)).toEqual({ granted: 20, retryAfterMs: 0 });
      // Buckets are per (namespace, name).
      expect((await limits.take(ns, 'bytes', spec, 20, 1, T0)).granted).toBe(20);
      expect((await limits.take(uniqueNamespace(), 'events', spec, 20, 1, T0)).granted).toBe(20);
    });

    it('never grants more than the bucket holds to concurrent takers', async () => {
      const { limits } = harness.engine();
      const ns = uniqueNamespace();
      const spec = { ratePerSec: 0.001, capacity: 50 };
      const results = await Promise.all(Array.from({ length: 20 }, () => limits.take(ns, 'race', spec, 4, 1, T0)));
      const granted = results.reduce((sum, r) => sum + r.granted, 0);
      expect(granted).toBe(50);
      expect(results.filter((r) => r.granted === 0)).toHaveLength(20 - Math.ceil(50 / 4));
    });

    it('grants leases up to the limit, renews a holder, frees on release and on expiry', async () => {
      const { limits } = harness.engine();
      const ns = uniqueNamespace();
      expect(await limits.acquireLease(ns, 'conn', 'a', 2, T0 + 1000, T0)).toEqual({ ok: true, held: 1 });
      expect(await limits.acquireLease(ns, 'conn', 'b', 2, T0 + 1000, T0)).toEqual({ ok: true, held: 2 });
      expect(await limits.acquireLease(ns, 'conn', 'c', 2, T0 + 1000, T0)).toEqual({ ok: false, held: 2 });
      // A holder already counted is renewed even at the limit.
      expect(await limits.acquireLease(ns, 'conn', 'a', 2, T0 + 1000, T0)).toEqual({ ok: true, held: 2 });
      // Other kinds and namespaces count separately.
      expect((await limits.acquireLease(ns, 'rpc', 'c', 2, T0 + 1000, T0)).ok).toBe(true);
      expect((await limits.acquireLease(uniqueNamespace(), 'conn', 'c', 2, T0 + 1000, T0)).ok).toBe(true);
      await limits.releaseLease(ns, 'conn', 'b');
      expect(await limits.acquireLease(ns, 'conn', 'c', 2, T0 + 1000, T0)).toEqual({ ok: true, held: 2 });
      // a is renewed to T0+5000; c lapses at T0+1000 (its worker died), so d gets its place.
      await limits.renewLeases(ns, 'conn', ['a', 'gone'], T0 + 5000, T0 + 500);
      expect(await limits.acquireLease(ns, 'conn', 'd', 2, T0 + 6000, T0 + 1000)).toEqual({ ok: true, held: 2 });
      expect(await limits.acquireLease(ns, 'conn', 'e', 2, T0 + 6000, T0 + 1000)).toEqual({ ok: false, held: 2 });
      // Renewing a released lease does not bring it back.
      await limits.releaseLease(ns, 'conn', 'd');
      await limits.renewLeases(ns, 'conn', ['d'], T0 + 9000, T0 + 1000);
      expect(await limits.acquireLease(ns, 'conn', 'e', 2, T0 + 6000, T0 + 1000)).toEqual({ ok: true, held: 2 });
    });

    it('does not revive a lease that expired before its renewal', async () => {
      const { limits } = harness.engine();
      const ns = uniqueNamespace();
      expect((await limits.acquireLease(ns, 'conn', 'x', 1, T0 + 100, T0)).ok).toBe(true);
      await limits.renewLeases(ns, 'conn', ['x'], T0 + 5000, T0 + 200);
      expect(await limits.acquireLease(ns, 'conn', 'y', 1, T0 + 5000, T0 + 300)).toEqual({ ok: true, held: 1 });
    });

    it('grants exactly the limit to concurrent lease requests', async () => {
      const { limits } = harness.engine();
      const ns = uniqueNamespace();
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => limits.acquireLease(ns, 'rpc', `h${i}`, 5, T0 + 1000, T0)),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(5);
    });

    it('adds usage within a ceiling, always applies decrements, never goes below 0', async () => {
      const { limits } = harness.engine();
      const ns = uniqueNamespace();
      expect(await limits.usage(ns)).toEqual({});
      expect(await limits.addUsage(ns, 'historyBytes', 600, 1000)).toEqual({ ok: true, used: 600 });
      expect(await limits.addUsage(ns, 'historyBytes', 500, 1000)).toEqual({ ok: false, used: 600 });
      expect(await limits.addUsage(ns, 'historyBytes', 400, 1000)).toEqual({ ok: true, used: 1000 });
      expect(await limits.addUsage(ns, 'sessions', 1, 1)).toEqual({ ok: true, used: 1 });
      expect(await limits.addUsage(ns, 'historyBytes', -300, 0)).toEqual({ ok: true, used: 700 });
      expect(await limits.addUsage(ns, 'historyBytes', -5000, 0)).toEqual({ ok: true, used: 0 });
      expect(await limits.usage(ns)).toEqual({ historyBytes: 0, sessions: 1 });
      const raced = await Promise.all(Array.from({ length: 10 }, () => limits.addUsage(ns, 'machines', 1, 4)));
      expect(raced.filter((r) => r.ok)).toHaveLength(4);
      expect((await limits.usage(ns)).machines).toBe(4);
    });
  });
}
