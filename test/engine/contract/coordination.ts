// Contract of cluster coordination (engine.coordination): secrets, locks, ephemeral values.
import { describe, expect, it, vi } from 'vitest';
import { type EngineHarness, uniqueName } from './harness.js';

export function describeCoordinationContract(harness: EngineHarness): void {
  describe('secrets and locks', () => {
    it('stores a secret only if absent', async () => {
      const engine = harness.engine();
      const name = uniqueName('secret');
      expect(await engine.coordination.getOrSetSecret(name, 'first')).toBe('first');
      expect(await engine.coordination.getOrSetSecret(name, 'second')).toBe('first');
      const raced = await Promise.all(
        Array.from({ length: 10 }, (_, i) => engine.coordination.getOrSetSecret(`${name}-race`, `c${i}`)),
      );
      expect(new Set(raced).size).toBe(1);
    });

    it('grants a lock to one owner, lets it extend, and releases only for the owner', async () => {
      const engine = harness.engine();
      const lock = uniqueName('lock');
      expect(await engine.coordination.acquireLock(lock, 'a', 60_000)).toBe(true);
      expect(await engine.coordination.acquireLock(lock, 'b', 60_000)).toBe(false);
      expect(await engine.coordination.acquireLock(lock, 'a', 60_000)).toBe(true);
      await engine.coordination.releaseLock(lock, 'b');
      expect(await engine.coordination.acquireLock(lock, 'b', 60_000)).toBe(false);
      await engine.coordination.releaseLock(lock, 'a');
      expect(await engine.coordination.acquireLock(lock, 'b', 60_000)).toBe(true);
      const raced = await Promise.all(
        ['c', 'd', 'e', 'f'].map((owner) => engine.coordination.acquireLock(`${lock}-race`, owner, 60_000)),
      );
      expect(raced.filter(Boolean)).toHaveLength(1);
    });

    it('lets another owner take an expired lock', async () => {
      const engine = harness.engine();
      const lock = uniqueName('lock');
      expect(await engine.coordination.acquireLock(lock, 'a', 100)).toBe(true);
      expect(await engine.coordination.acquireLock(lock, 'b', 60_000)).toBe(false);
      // Bounded poll on the wall clock: the lock lapses ~100 ms after acquisition.
      await vi.waitFor(async () => expect(await engine.coordination.acquireLock(lock, 'b', 60_000)).toBe(true), {
        timeout: 5_000,
        interval: 20,
      });
      expect(await engine.coordination.acquireLock(lock, 'a', 60_000)).toBe(false);
    });
  });

  describe('ephemeral values', () => {
    it('stores, overwrites, deletes and expires a value', async () => {
      const engine = harness.engine();
      const key = uniqueName('ephemeral');
      expect(await engine.coordination.getEphemeral(key)).toBeNull();
      await engine.coordination.setEphemeral(key, 'one', 60_000);
      expect(await engine.coordination.getEphemeral(key)).toBe('one');
      await engine.coordination.setEphemeral(key, 'two', 60_000);
      expect(await engine.coordination.getEphemeral(key)).toBe('two');
      await engine.coordination.deleteEphemeral(key);
      expect(await engine.coordination.getEphemeral(key)).toBeNull();
      await engine.coordination.setEphemeral(key, 'short', 100);
      // Bounded poll on the wall clock: the value lapses ~100 ms after it was set.
      await vi.waitFor(async () => expect(await engine.coordination.getEphemeral(key)).toBeNull(), {
        timeout: 5_000,
        interval: 20,
      });
    });
  });
}
