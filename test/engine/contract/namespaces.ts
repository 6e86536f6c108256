// Contract of the namespace registry (engine.namespaces).
import { describe, expect, it } from 'vitest';
import { type EngineHarness, T0, uniqueNamespace } from './harness.js';

export function describeNamespaceContract(harness: EngineHarness): void {
  describe('namespaces', () => {
    it('registers a namespace once with the initial record', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      expect(await engine.namespaces.get(ns)).toBeNull();
      expect(await engine.namespaces.register(ns, T0)).toBe(true);
      expect(await engine.namespaces.register(ns, T0 + 5)).toBe(false);
      expect(await engine.namespaces.get(ns)).toEqual({
        name: ns,
        createdAt: T0,
        tokenHash: null,
        generation: 0,
        revoked: false,
      });
    });

    // Closed registration (HAPI_NAMESPACE_REGISTRATION=closed) decides on get() alone: a lookup of
    // an unknown name must not create it.
    it('get of an unknown namespace registers nothing', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      expect(await engine.namespaces.get(ns)).toBeNull();
      expect(await engine.namespaces.get(ns)).toBeNull();
      expect((await engine.namespaces.list()).map((record) => record.name)).not.toContain(ns);
      expect(await engine.namespaces.register(ns, T0)).toBe(true);
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
      expect(await engine.namespaces.setToken(ns, 'hash-1', T0)).toEqual({
        name: ns,
        createdAt: T0,
        tokenHash: 'hash-1',
        generation: 1,
        revoked: false,
      });
      expect(await engine.namespaces.register(ns, T0 + 1)).toBe(false);
      expect(await engine.namespaces.setToken(ns, 'hash-2', T0 + 9)).toEqual({
        name: ns,
        createdAt: T0,
        tokenHash: 'hash-2',
        generation: 2,
        revoked: false,
      });
      expect(await engine.namespaces.revoke(ns)).toEqual({
        name: ns,
        createdAt: T0,
        tokenHash: null,
        generation: 3,
        revoked: true,
      });
      expect(await engine.namespaces.get(ns)).toEqual({
        name: ns,
        createdAt: T0,
        tokenHash: null,
        generation: 3,
        revoked: true,
      });
      expect(await engine.namespaces.setToken(ns, 'hash-3', T0 + 20)).toMatchObject({
        tokenHash: 'hash-3',
        generation: 4,
        revoked: false,
      });
    });

    it('keeps the creation time of an already registered namespace when a token is set', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      await engine.namespaces.register(ns, T0 - 100);
      expect(await engine.namespaces.setToken(ns, 'h', T0)).toEqual({
        name: ns,
        createdAt: T0 - 100,
        tokenHash: 'h',
        generation: 1,
        revoked: false,
      });
    });
  });
}
