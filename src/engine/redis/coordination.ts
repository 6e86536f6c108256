// Cluster-wide coordination on Redis: set-once secrets, leased locks and ephemeral values, one
// global key each (spread over Cluster slots).
import type { Coordination } from '../stores/coordination.js';
import type { RedisContext } from './context.js';
import { globalKeys } from './keys.js';

export function createCoordination(context: RedisContext): Coordination {
  const { client, scripts } = context;
  return {
    async getOrSetSecret(name, candidate) {
      // SET NX GET (Redis >= 7.0): stores the candidate only if absent and returns the previous
      // value, in one atomic command; null means our candidate is now the secret.
      const previous = await client.set(globalKeys.secret(name), candidate, 'NX', 'GET');
      return previous ?? candidate;
    },

    async acquireLock(name, owner, ttlMs) {
      const ttl = String(Math.max(1, Math.ceil(ttlMs)));
      return (await scripts.run('lockAcquire', [globalKeys.lock(name)], [owner, ttl])) === 1;
    },

    async releaseLock(name, owner) {
      await scripts.run('deleteIfEquals', [globalKeys.lock(name)], [owner]);
    },

    async setEphemeral(key, value, ttlMs) {
      await client.set(globalKeys.ephemeral(key), value, 'PX', Math.max(1, Math.ceil(ttlMs)));
    },

    getEphemeral(key) {
      return client.get(globalKeys.ephemeral(key));
    },

    async deleteEphemeral(key) {
      await client.del(globalKeys.ephemeral(key));
    },
  };
}
