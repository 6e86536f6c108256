// The RPC route table on Redis: one string key per (namespace, method) in the tenant's slot.
import type { RpcRouteTable } from '../stores/rpc-routes.js';
import type { RedisContext } from './context.js';
import { tenantKeys } from './keys.js';

export function createRpcRouteTable(context: RedisContext): RpcRouteTable {
  const { client, scripts } = context;
  return {
    async set(ns, method, socketId) {
      await client.set(tenantKeys.rpcRoute(ns, method), socketId);
    },

    async delete(ns, method, socketId) {
      // Compare-and-delete: a newer registration by another socket must survive.
      await scripts.run('deleteIfEquals', [tenantKeys.rpcRoute(ns, method)], [socketId]);
    },

    get(ns, method) {
      return client.get(tenantKeys.rpcRoute(ns, method));
    },
  };
}
