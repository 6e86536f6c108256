// The namespace registry in SQLite: one row per tenant.
import type { NamespaceRegistry } from '../stores/namespaces.js';
import type { NamespaceRecord } from '../types.js';
import { int, type SqliteConnection, type SqlRow, text, textOrNull } from './connection.js';

function recordOf(row: SqlRow): NamespaceRecord {
  return {
    name: text(row, 'name'),
    createdAt: int(row, 'created_at'),
    tokenHash: textOrNull(row, 'token_hash'),
    generation: int(row, 'generation'),
    revoked: int(row, 'revoked') !== 0,
  };
}

export function createNamespaceRegistry(db: SqliteConnection): NamespaceRegistry {
  const register = (ns: string, now: number): boolean =>
    db.run(
      'INSERT OR IGNORE INTO namespaces (name, created_at, token_hash, generation, revoked) VALUES (?, ?, NULL, 0, 0)',
      ns,
      now,
    ) > 0;

  const find = (ns: string): NamespaceRecord | null => {
    const row = db.get('SELECT * FROM namespaces WHERE name = ?', ns);
    return row ? recordOf(row) : null;
  };

  return {
    async register(ns, now) {
      return db.write(() => register(ns, now));
    },

    async get(ns) {
      return find(ns);
    },

    async list() {
      // Sorted by code unit like the other engines, not by SQLite's collation of the moment.
      return db
        .all('SELECT * FROM namespaces')
        .map(recordOf)
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },

    // Every token change moves the generation, which invalidates JWTs minted before it.
    async setToken(ns, tokenHash, now) {
      return db.write(() => {
        register(ns, now);
        db.run(
          'UPDATE namespaces SET token_hash = ?, revoked = 0, generation = generation + 1 WHERE name = ?',
          tokenHash,
          ns,
        );
        const record = find(ns);
        if (!record) throw new Error(`namespace ${ns} missing right after registration`);
        return record;
      });
    },

    async revoke(ns) {
      return db.write(() => {
        if (
          db.run(
            'UPDATE namespaces SET token_hash = NULL, revoked = 1, generation = generation + 1 WHERE name = ?',
            ns,
          ) === 0
        )
          return null;
        return find(ns);
      });
    },
  };
}
