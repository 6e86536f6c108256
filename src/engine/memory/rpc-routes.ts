// The RPC route table in memory: scopedKey(ns, method) → socket id.
import type { RpcRouteTable } from '../stores/rpc-routes.js';
import { scopedKey } from './state.js';

export function createRpcRouteTable(): RpcRouteTable {
  const routes = new Map<string, string>();
  return {
    async set(ns, method, socketId) {
      routes.set(scopedKey(ns, method), socketId);
    },

    async delete(ns, method, socketId) {
      const key = scopedKey(ns, method);
      if (routes.get(key) === socketId) routes.delete(key);
    },

    async get(ns, method) {
      return routes.get(scopedKey(ns, method)) ?? null;
    },
  };
}
