// The namespace registry in memory: one record per tenant.
import type { NamespaceRegistry } from '../stores/namespaces.js';
import type { NamespaceRecord } from '../types.js';

export function createNamespaceRegistry(): NamespaceRegistry {
  const records = new Map<string, NamespaceRecord>();

  const register = (ns: string, now: number): boolean => {
    if (records.has(ns)) return false;
    records.set(ns, { name: ns, createdAt: now, tokenHash: null, generation: 0, revoked: false });
    return true;
  };

  /** Every token change moves the generation, which invalidates JWTs minted before it. */
  const bumpGeneration = (
    ns: string,
    change: Pick<NamespaceRecord, 'tokenHash' | 'revoked'>,
  ): NamespaceRecord | null => {
    const record = records.get(ns);
    if (!record) return null;
    Object.assign(record, change);
    record.generation += 1;
    return { ...record };
  };

  return {
    async register(ns, now) {
      return register(ns, now);
    },

    async get(ns) {
      const record = records.get(ns);
      return record ? { ...record } : null;
    },

    async list() {
      return [...records.values()]
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map((record) => ({ ...record }));
    },

    async setToken(ns, tokenHash, now) {
      register(ns, now);
      const updated = bumpGeneration(ns, { tokenHash, revoked: false });
      if (!updated) throw new Error(`namespace ${ns} missing right after registration`);
      return updated;
    },

    async revoke(ns) {
      return bumpGeneration(ns, { tokenHash: null, revoked: true });
    },
  };
}
