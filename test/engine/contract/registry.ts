// Namespaces, RPC routes, secrets, locks and lifecycle.
import { describe, expect, it, vi } from 'vitest';
import { type EngineHarness, T0, uniqueName, uniqueNamespace } from './harness.js';

export function describeRegistryContract(harness: EngineHarness): void {
  describe('namespaces', () => {
    it('registers a namespace once with the initial record', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      expect(await engine.namespaces.get(ns)).toBeNull();
      expect(await engine.namespaces.register(ns, T0)).toBe(true);
      expect(await engine.namespaces.register(ns, T0 + 5)).toBe(false);
      expect(await engine.namespaces.get(ns)).toEqual({ name: ns, createdAt: T0, tokenHash: null, generation: 0, revoked: false });
    });

    it('lists namespaces sorted by name', async () => {
      const engine = harness.engine();
      const names = [uniqueNamespace(), uniqueNamespace(), uniqueNamespace()];
      for (const name of names) await engine.namespaces.register(name, T0);
      const listed = (await engine.namespaces.list()).map((record) => record.name);
      expect(listed).toEqual([...listed].sort());
      expect(listed.filter((name) => names.includes(name))).toEqual([...names].sort());
    });

    it('sets, rotates and revokes a namespace token, bumping the generation each time', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      expect(await engine.namespaces.revoke(ns)).toBeNull();
      expect(await engine.namespaces.setToken(ns, 'hash-1', T0)).toEqual({ name: ns, createdAt: T0, tokenHash: 'hash-1', generation: 1, revoked: false });
      expect(await engine.namespaces.register(ns, T0 + 1)).toBe(false);
      expect(await engine.namespaces.setToken(ns, 'hash-2', T0 + 9)).toEqual({ name: ns, createdAt: T0, tokenHash: 'hash-2', generation: 2, revoked: false });
      expect(await engine.namespaces.revoke(ns)).toEqual({ name: ns, createdAt: T0, tokenHash: null, generation: 3, revoked: true });
      expect(await engine.namespaces.get(ns)).toEqual({ name: ns, createdAt: T0, tokenHash: null, generation: 3, revoked: true });
      expect(await engine.namespaces.setToken(ns, 'hash-3', T0 + 20)).toMatchObject({ tokenHash: 'hash-3', generation: 4, revoked: false });
    });

    it('keeps the creation time of an already registered namespace when a token is set', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      await engine.namespaces.register(ns, T0 - 100);
      expect(await engine.namespaces.setToken(ns, 'h', T0)).toEqual({ name: ns, createdAt: T0 - 100, tokenHash: 'h', generation: 1, revoked: false });
    });
  });

  describe('rpc routes', () => {
    it('lets the last registration win and deletes only the current owner', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const method = `${uniqueName('session')}:abort`;
      expect(await engine.rpcRoutes.get(ns, method)).toBeNull();
      await engine.rpcRoutes.set(ns, method, 'socket-a');
      await engine.rpcRoutes.set(ns, method, 'socket-b');
      expect(await engine.rpcRoutes.get(ns, method)).toBe('socket-b');
      await engine.rpcRoutes.delete(ns, method, 'socket-a');
      expect(await engine.rpcRoutes.get(ns, method)).toBe('socket-b');
      await engine.rpcRoutes.delete(ns, method, 'socket-b');
      expect(await engine.rpcRoutes.get(ns, method)).toBeNull();
    });

    it('keeps routes per namespace: the same method in two namespaces never shares, replaces or deletes a route', async () => {
      const engine = harness.engine();
      const [bob, alice] = [uniqueNamespace(), uniqueNamespace()];
      const method = `${uniqueName('session')}:readFile`;
      await engine.rpcRoutes.set(bob, method, 'bob-socket');
      expect(await engine.rpcRoutes.get(alice, method)).toBeNull();
      await engine.rpcRoutes.set(alice, method, 'alice-socket');
      expect(await engine.rpcRoutes.get(bob, method)).toBe('bob-socket');
      expect(await engine.rpcRoutes.get(alice, method)).toBe('alice-socket');
      await engine.rpcRoutes.delete(alice, method, 'bob-socket');
      await engine.rpcRoutes.delete(alice, method, 'alice-socket');
      expect(await engine.rpcRoutes.get(bob, method)).toBe('bob-socket');
      expect(await engine.rpcRoutes.get(alice, method)).toBeNull();
    });
  });

  describe('secrets and locks', () => {
    it('stores a secret only if absent', async () => {
      const engine = harness.engine();
      const name = uniqueName('secret');
      expect(await engine.coordination.getOrSetSecret(name, 'first')).toBe('first');
      expect(await engine.coordination.getOrSetSecret(name, 'second')).toBe('first');
      const raced = await Promise.all(Array.from({ length: 10 }, (_, i) => engine.coordination.getOrSetSecret(`${name}-race`, `c${i}`)));
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
      const raced = await Promise.all(['c', 'd', 'e', 'f'].map((owner) => engine.coordination.acquireLock(`${lock}-race`, owner, 60_000)));
      expect(raced.filter(Boolean)).toHaveLength(1);
    });

    it('lets another owner take an expired lock', async () => {
      const engine = harness.engine();
      const lock = uniqueName('lock');
      expect(await engine.coordination.acquireLock(lock, 'a', 100)).toBe(true);
      expect(await engine.coordination.acquireLock(lock, 'b', 60_000)).toBe(false);
      // Bounded poll on the wall clock: the lock lapses ~100 ms after acquisition.
      await vi.waitFor(async () => expect(await engine.coordination.acquireLock(lock, 'b', 60_000)).toBe(true), { timeout: 5_000, interval: 20 });
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
      await vi.waitFor(async () => expect(await engine.coordination.getEphemeral(key)).toBeNull(), { timeout: 5_000, interval: 20 });
    });
  });

  describe('lifecycle', () => {
    it('answers ping', async () => {
      await expect(harness.engine().ping()).resolves.toBeUndefined();
    });

    it('closes cleanly', async () => {
      // The harness cleanup runs after this; makeEngine's cleanup must tolerate a closed engine.
      await expect(harness.engine().close()).resolves.toBeUndefined();
    });
  });
}
