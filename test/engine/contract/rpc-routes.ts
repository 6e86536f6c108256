// Contract of the RPC route table (engine.rpcRoutes).
import { describe, expect, it } from 'vitest';
import { type EngineHarness, uniqueName, uniqueNamespace } from './harness.js';

export function describeRpcRouteContract(harness: EngineHarness): void {
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
}
