// Documents in memory: one map of name → JSON text per (namespace, owner).
import type { DocumentStore } from '../stores/documents.js';

export function createDocumentStore(): DocumentStore {
  const owners = new Map<string, Map<string, string>>();
  const ownerKey = (ns: string, owner: string) => JSON.stringify([ns, owner]);
  return {
    async get(ns, owner, name) {
      return owners.get(ownerKey(ns, owner))?.get(name) ?? null;
    },

    async put(ns, owner, name, json) {
      const key = ownerKey(ns, owner);
      let docs = owners.get(key);
      if (!docs) {
        docs = new Map();
        owners.set(key, docs);
      }
      docs.set(name, json);
    },

    async delete(ns, owner, name) {
      const key = ownerKey(ns, owner);
      const docs = owners.get(key);
      if (!docs?.delete(name)) return false;
      if (docs.size === 0) owners.delete(key);
      return true;
    },

    async deleteOwner(ns, owner) {
      const key = ownerKey(ns, owner);
      const count = owners.get(key)?.size ?? 0;
      owners.delete(key);
      return count;
    },
  };
}
