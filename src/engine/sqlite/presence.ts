// Presence in SQLite: the deadline table the sweeper expires, and the live fields (JSON text on
// the session/machine row), changed together in one transaction. expireOverdue selects and
// deletes in one BEGIN IMMEDIATE, so each overdue entry goes to exactly one caller, even across
// processes sharing the file. The keep-alive rules themselves are memory's applyRefresh, shared.
import { applyRefresh } from '../memory/presence.js';
import type { PresenceStore } from '../stores/presence.js';
import type {
  ExpiredPresence,
  LiveFields,
  PresenceKind,
  RefreshPresenceInput,
  RefreshPresenceResult,
} from '../types.js';
import { int, type SqliteConnection, text } from './connection.js';
import { liveOf } from './rows.js';

const TABLE: Record<PresenceKind, 'sessions' | 'machines'> = { session: 'sessions', machine: 'machines' };

export function createPresenceStore(db: SqliteConnection): PresenceStore {
  const readLive = (ns: string, kind: PresenceKind, id: string): LiveFields | null => {
    const row = db.get(`SELECT live FROM ${TABLE[kind]} WHERE namespace = ? AND id = ?`, ns, id);
    return row ? liveOf(row) : null;
  };
  const writeLive = (ns: string, kind: PresenceKind, id: string, live: LiveFields): void => {
    db.run(`UPDATE ${TABLE[kind]} SET live = ? WHERE namespace = ? AND id = ?`, JSON.stringify(live), ns, id);
  };
  const removeDeadline = (ns: string, kind: PresenceKind, id: string): void => {
    db.run('DELETE FROM presence_deadlines WHERE namespace = ? AND kind = ? AND id = ?', ns, kind, id);
  };

  /** One keep-alive, inside the caller's write transaction. */
  const refreshOne = (
    ns: string,
    kind: PresenceKind,
    id: string,
    input: RefreshPresenceInput,
  ): RefreshPresenceResult => {
    const live = readLive(ns, kind, id);
    if (!live) return { found: false, becameActive: false, changed: [], broadcastDue: false, live: {}, queued: 0 };
    const outcome = applyRefresh(live, input);
    writeLive(ns, kind, id, live);
    db.run(
      'INSERT INTO presence_deadlines (namespace, kind, id, deadline) VALUES (?, ?, ?, ?) ON CONFLICT (namespace, kind, id) DO UPDATE SET deadline = excluded.deadline',
      ns,
      kind,
      id,
      input.deadline,
    );
    const queuedRow =
      kind === 'session'
        ? db.get(
            'SELECT count(*) AS queued FROM messages WHERE namespace = ? AND session_id = ? AND local_id IS NOT NULL AND invoked_at IS NULL',
            ns,
            id,
          )
        : undefined;
    return { found: true, ...outcome, live, queued: queuedRow ? int(queuedRow, 'queued') : 0 };
  };

  return {
    async refresh(ns, kind, id, input) {
      return db.write(() => refreshOne(ns, kind, id, input));
    },

    async refreshMany(requests) {
      // One transaction (one commit) for the whole batch instead of one per keep-alive.
      return db.write(() => requests.map(({ namespace, kind, id, input }) => refreshOne(namespace, kind, id, input)));
    },

    async setLiveFields(ns, kind, id, fields) {
      return db.write(() => {
        const live = readLive(ns, kind, id);
        if (!live) return null;
        Object.assign(live, fields);
        writeLive(ns, kind, id, live);
        return live;
      });
    },

    async markInactive(ns, kind, id, fields) {
      return db.write(() => {
        const live = readLive(ns, kind, id);
        if (!live) return { wasActive: false };
        removeDeadline(ns, kind, id);
        const wasActive = live.active === true;
        live.active = false;
        Object.assign(live, fields);
        writeLive(ns, kind, id, live);
        return { wasActive };
      });
    },

    async expireOverdue(now, limit) {
      return db.write(() => {
        const expired: ExpiredPresence[] = db
          .all(
            'SELECT namespace, kind, id FROM presence_deadlines WHERE deadline <= ? ORDER BY deadline LIMIT ?',
            now,
            Math.max(0, limit),
          )
          .map((row) => ({
            namespace: text(row, 'namespace'),
            kind: text(row, 'kind') as PresenceKind,
            id: text(row, 'id'),
          }));
        for (const entry of expired) {
          removeDeadline(entry.namespace, entry.kind, entry.id);
          const live = readLive(entry.namespace, entry.kind, entry.id);
          if (!live) continue;
          live.active = false;
          if (entry.kind === 'session') live.thinking = false;
          writeLive(entry.namespace, entry.kind, entry.id, live);
        }
        return expired;
      });
    },
  };
}
