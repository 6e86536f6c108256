// Documents on Redis: one hash per (namespace, owner), field = document name, value = JSON text.
// The hash is a tenant key (the namespace's slot), so deleting an owner is one DEL.
import type { DocumentStore } from '../stores/documents.js';
import type { RedisContext } from './context.js';
import { tenantKeys } from './keys.js';

export function createDocumentStore(context: RedisContext): DocumentStore {
  const { client } = context;
  return {
    get(ns, owner, name) {
      return client.hget(tenantKeys.documents(ns, owner), name);
    },

    async put(ns, owner, name, json) {
      await client.hset(tenantKeys.documents(ns, owner), name, json);
    },

    async delete(ns, owner, name) {
      return (await client.hdel(tenantKeys.documents(ns, owner), name)) > 0;
    },

    async deleteOwner(ns, owner) {
      const key = tenantKeys.documents(ns, owner);
      // HLEN then DEL in one MULTI: the count is the number of documents the DEL removed.
      const replies = await client.multi().hlen(key).del(key).exec();
      return Number(replies?.[0]?.[1] ?? 0);
    },
  };
}
