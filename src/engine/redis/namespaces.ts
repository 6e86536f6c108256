// Namespace registry: one hash per namespace plus a set of names, all under the `{@registry}`
// hash tag so each registry script touches one Cluster slot. Small and rarely written.
import type { NamespaceRegistry } from '../stores/namespaces.js';
import type { NamespaceRecord } from '../types.js';
import { arrayOf, decimal, hashOf, numberOf } from './codec.js';
import type { RedisContext } from './context.js';
import { encodeNamespace, globalKeys } from './keys.js';

export function createNamespaceRegistry(context: RedisContext): NamespaceRegistry {
  const { client, scripts } = context;
  return {
    async register(ns, now) {
      const created = await scripts.run(
        'namespaceRegister',
        [globalKeys.namespaceRecord(ns), globalKeys.namespaceNames()],
        [encodeNamespace(ns), ns, decimal(now)],
      );
      return created === 1;
    },

    async get(ns) {
      const hash = await client.hgetall(globalKeys.namespaceRecord(ns));
      return Object.keys(hash).length > 0 ? decodeNamespaceRecord(hash) : null;
    },

    async list() {
      const reply = await scripts.run(
        'namespaceList',
        [globalKeys.namespaceNames()],
        [globalKeys.namespaceRecordPrefix()],
      );
      return arrayOf(reply)
        .map((record) => decodeNamespaceRecord(hashOf(record)))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },

    async setToken(ns, tokenHash, now) {
      const reply = await scripts.run(
        'namespaceSetToken',
        [globalKeys.namespaceRecord(ns), globalKeys.namespaceNames()],
        [encodeNamespace(ns), ns, decimal(now), tokenHash],
      );
      return decodeNamespaceRecord(hashOf(reply));
    },

    async revoke(ns) {
      const reply = await scripts.run('namespaceRevoke', [globalKeys.namespaceRecord(ns)]);
      return reply === null ? null : decodeNamespaceRecord(hashOf(reply));
    },
  };
}

function decodeNamespaceRecord(hash: Record<string, string>): NamespaceRecord {
  return {
    name: hash.name ?? '',
    createdAt: numberOf(hash.createdAt),
    tokenHash: hash.tokenHash ?? null,
    generation: numberOf(hash.generation),
    revoked: hash.revoked === '1',
  };
}
