// Secrets, locks and ephemeral values in SQLite. Lock and value expiry run on the wall clock
// (not an injected `now`), as Redis' SET NX PX / SET PX do. Secrets (hub token, JWT secret)
// persist with the file, so a restarted hub keeps its CLI_API_TOKEN.
import type { Coordination } from '../stores/coordination.js';
import { type SqliteConnection, text } from './connection.js';

export function createCoordination(db: SqliteConnection): Coordination {
  return {
    async getOrSetSecret(name, candidate) {
      return db.write(() => {
        db.run('INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)', name, candidate);
        const row = db.get('SELECT value FROM secrets WHERE name = ?', name);
        if (!row) throw new Error(`secret ${name} missing right after its insert`);
        return text(row, 'value');
      });
    },

    async acquireLock(name, owner, ttlMs) {
      const now = Date.now();
      return db.write(() => {
        // Re-acquiring one's own lock extends it; another owner's lock is taken only once expired.
        const taken = db.run(
          `INSERT INTO locks (name, owner, expires_at) VALUES (?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
           WHERE locks.owner = excluded.owner OR locks.expires_at <= ?`,
          name,
          owner,
          now + ttlMs,
          now,
        );
        return taken > 0;
      });
    },

    async releaseLock(name, owner) {
      db.write(() => {
        db.run('DELETE FROM locks WHERE name = ? AND owner = ?', name, owner);
      });
    },

    async setEphemeral(key, value, ttlMs) {
      const now = Date.now();
      db.write(() => {
        // Expired entries are dropped here, so the table holds only live ones plus this write's.
        db.run('DELETE FROM ephemeral WHERE expires_at <= ?', now);
        db.run(
          'INSERT INTO ephemeral (key, value, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at',
          key,
          value,
          now + ttlMs,
        );
      });
    },

    async getEphemeral(key) {
      const row = db.get('SELECT value FROM ephemeral WHERE key = ? AND expires_at > ?', key, Date.now());
      return row ? text(row, 'value') : null;
    },

    async deleteEphemeral(key) {
      db.write(() => {
        db.run('DELETE FROM ephemeral WHERE key = ?', key);
      });
    },
  };
}
