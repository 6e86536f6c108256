// Secrets, locks and ephemeral values in memory. Lock and value expiry run on the wall clock
// (not an injected `now`), as Redis' SET NX PX / SET PX do.
import type { Coordination } from '../stores/coordination.js';

export function createCoordination(): Coordination {
  const secrets = new Map<string, string>();
  const locks = new Map<string, { owner: string; expiresAt: number }>();
  const ephemeral = new Map<string, { value: string; expiresAt: number }>();

  return {
    async getOrSetSecret(name, candidate) {
      const stored = secrets.get(name);
      if (stored !== undefined) return stored;
      secrets.set(name, candidate);
      return candidate;
    },

    async acquireLock(name, owner, ttlMs) {
      const now = Date.now();
      const held = locks.get(name);
      if (held && held.owner !== owner && held.expiresAt > now) return false;
      locks.set(name, { owner, expiresAt: now + ttlMs });
      return true;
    },

    async releaseLock(name, owner) {
      if (locks.get(name)?.owner === owner) locks.delete(name);
    },

    async setEphemeral(key, value, ttlMs) {
      ephemeral.set(key, { value, expiresAt: Date.now() + ttlMs });
    },

    async getEphemeral(key) {
      const entry = ephemeral.get(key);
      if (!entry) return null;
      if (entry.expiresAt <= Date.now()) {
        ephemeral.delete(key);
        return null;
      }
      return entry.value;
    },

    async deleteEphemeral(key) {
      ephemeral.delete(key);
    },
  };
}
