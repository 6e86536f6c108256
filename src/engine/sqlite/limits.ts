// Limits in SQLite. Overrides persist with the file; buckets, leases and usage counters are kept
// in tables too (one process writes the file, but a second one opening it stays correct). The
// tables are created here, IF NOT EXISTS, so this store adds no migration to schema.ts.
import { takeFromBucket } from '../memory/limits.js';
import type { LimitStore } from '../stores/limits.js';
import { int, type SqliteConnection, text } from './connection.js';

const TABLES = `
  CREATE TABLE IF NOT EXISTS limit_overrides (
    namespace TEXT NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (namespace, name)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS limit_buckets (
    namespace TEXT NOT NULL, bucket TEXT NOT NULL, tokens REAL NOT NULL, at INTEGER NOT NULL,
    PRIMARY KEY (namespace, bucket)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS limit_leases (
    namespace TEXT NOT NULL, kind TEXT NOT NULL, holder TEXT NOT NULL, expires_at INTEGER NOT NULL,
    PRIMARY KEY (namespace, kind, holder)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS limit_usage (
    namespace TEXT NOT NULL, counter TEXT NOT NULL, used INTEGER NOT NULL, PRIMARY KEY (namespace, counter)
  ) WITHOUT ROWID;
`;

export function createLimitStore(db: SqliteConnection): LimitStore {
  db.write(() => {
    for (const statement of TABLES.split(';').filter((s) => s.trim() !== '')) db.run(statement);
  });
  const overrides = (ns: string): Record<string, number> =>
    Object.fromEntries(
      db
        .all('SELECT name, value FROM limit_overrides WHERE namespace = ?', ns)
        .map((row) => [text(row, 'name'), int(row, 'value')]),
    );
  return {
    async overrides(ns) {
      return overrides(ns);
    },

    async setOverrides(ns, changes) {
      return db.write(() => {
        for (const [name, value] of Object.entries(changes)) {
          if (value === null) db.run('DELETE FROM limit_overrides WHERE namespace = ? AND name = ?', ns, name);
          else
            db.run(
              'INSERT INTO limit_overrides (namespace, name, value) VALUES (?, ?, ?) ON CONFLICT (namespace, name) DO UPDATE SET value = excluded.value',
              ns,
              name,
              value,
            );
        }
        return overrides(ns);
      });
    },

    async listOverrides() {
      const names = db
        .all('SELECT DISTINCT namespace FROM limit_overrides ORDER BY namespace')
        .map((row) => text(row, 'namespace'));
      return names.map((namespace) => ({ namespace, overrides: overrides(namespace) }));
    },

    async take(ns, bucket, spec, want, min, now) {
      return db.write(() => {
        const row = db.get('SELECT tokens, at FROM limit_buckets WHERE namespace = ? AND bucket = ?', ns, bucket);
        const stored = row ? { tokens: Number(row.tokens), at: int(row, 'at') } : undefined;
        const step = takeFromBucket(stored, spec, want, min, now);
        db.run(
          'INSERT INTO limit_buckets (namespace, bucket, tokens, at) VALUES (?, ?, ?, ?) ON CONFLICT (namespace, bucket) DO UPDATE SET tokens = excluded.tokens, at = excluded.at',
          ns,
          bucket,
          step.state.tokens,
          step.state.at,
        );
        return step.result;
      });
    },

    async acquireLease(ns, kind, holder, limit, expiresAt, now) {
      return db.write(() => {
        db.run('DELETE FROM limit_leases WHERE namespace = ? AND kind = ? AND expires_at <= ?', ns, kind, now);
        const count = () =>
          int(
            db.get('SELECT count(*) AS n FROM limit_leases WHERE namespace = ? AND kind = ?', ns, kind) ?? { n: 0 },
            'n',
          );
        const mine = db.get(
          'SELECT 1 AS one FROM limit_leases WHERE namespace = ? AND kind = ? AND holder = ?',
          ns,
          kind,
          holder,
        );
        const held = count();
        if (!mine && held >= limit) return { ok: false, held };
        db.run(
          'INSERT INTO limit_leases (namespace, kind, holder, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (namespace, kind, holder) DO UPDATE SET expires_at = excluded.expires_at',
          ns,
          kind,
          holder,
          expiresAt,
        );
        return { ok: true, held: count() };
      });
    },

    async renewLeases(ns, kind, holders, expiresAt, now) {
      db.write(() => {
        // An expired lease stays expired, even before an acquire has deleted its row.
        for (const holder of holders)
          db.run(
            'UPDATE limit_leases SET expires_at = ? WHERE namespace = ? AND kind = ? AND holder = ? AND expires_at > ?',
            expiresAt,
            ns,
            kind,
            holder,
            now,
          );
      });
    },

    async releaseLease(ns, kind, holder) {
      db.write(() => {
        db.run('DELETE FROM limit_leases WHERE namespace = ? AND kind = ? AND holder = ?', ns, kind, holder);
      });
    },

    async addUsage(ns, counter, delta, limit) {
      return db.write(() => {
        const row = db.get('SELECT used FROM limit_usage WHERE namespace = ? AND counter = ?', ns, counter);
        const used = row ? int(row, 'used') : 0;
        const next = Math.max(0, used + delta);
        if (delta > 0 && next > limit) return { ok: false, used };
        db.run(
          'INSERT INTO limit_usage (namespace, counter, used) VALUES (?, ?, ?) ON CONFLICT (namespace, counter) DO UPDATE SET used = excluded.used',
          ns,
          counter,
          next,
        );
        return { ok: true, used: next };
      });
    },

    async usage(ns) {
      return Object.fromEntries(
        db
          .all('SELECT counter, used FROM limit_usage WHERE namespace = ?', ns)
          .map((row) => [text(row, 'counter'), int(row, 'used')]),
      );
    },
  };
}
