// Per-session message logs in SQLite: gap-free seqs (the session row keeps the last one, so seqs
// are never reused), localId de-duplication, position order (invokedAt ?? createdAt, seq), the
// session's message epoch, and the row's event appended in the same transaction.
import type { MessageStore } from '../stores/messages.js';
import type {
  AppendMessageInput,
  AppendMessageResult,
  EngineOptions,
  MessagePageQuery,
  MessagePosition,
  MessageRow,
} from '../types.js';
import type { EventFanout } from '../memory/event-fanout.js';
import {
  int,
  intOrNull,
  jsonText,
  parseJson,
  type SqliteConnection,
  type SqlParam,
  type SqlRow,
  text,
  textOrNull,
} from './connection.js';
import { appendEventInTransaction } from './event-log.js';

const AT = 'coalesce(invoked_at, created_at)';
const COLUMNS = `id, session_id, seq, local_id, content, created_at, invoked_at, ${AT} AS at`;

function messageOf(row: SqlRow): MessageRow {
  return {
    id: text(row, 'id'),
    sessionId: text(row, 'session_id'),
    seq: int(row, 'seq'),
    localId: textOrNull(row, 'local_id'),
    content: parseJson(row, 'content'),
    createdAt: int(row, 'created_at'),
    invokedAt: intOrNull(row, 'invoked_at'),
  };
}

export function createMessageStore(db: SqliteConnection, options: EngineOptions, fanout: EventFanout): MessageStore {
  const scope = 'namespace = ? AND session_id = ?';

  const head = (ns: string, sessionId: string): MessagePosition | null => {
    const row = db.get(
      `SELECT ${AT} AS at, seq FROM messages WHERE ${scope} ORDER BY ${AT} DESC, seq DESC LIMIT 1`,
      ns,
      sessionId,
    );
    return row ? { at: int(row, 'at'), seq: int(row, 'seq') } : null;
  };

  /** One new row at `seq`; the caller has checked it is not a duplicate and moves last_message_seq. */
  const insertRow = (ns: string, sessionId: string, seq: number, input: AppendMessageInput): void => {
    db.run(
      'INSERT INTO messages (namespace, session_id, seq, id, local_id, content, created_at, invoked_at, counted_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ns,
      sessionId,
      seq,
      input.id,
      input.localId ?? null,
      jsonText(input.content),
      input.createdAt,
      input.invokedAt,
      input.countedBytes ?? 0,
    );
  };

  /** Deletes the session's rows matching `where` (after the scope): how many, and their countedBytes. */
  const deleteCounting = (
    ns: string,
    sessionId: string,
    where: string,
    ...params: SqlParam[]
  ): { rows: number; bytes: number } => {
    // One statement: the condition (for a trim, a subquery) is evaluated once.
    const removed = db.all(
      `DELETE FROM messages WHERE ${scope} AND ${where} RETURNING counted_bytes`,
      ns,
      sessionId,
      ...params,
    );
    let bytes = 0;
    for (const row of removed) bytes += int(row, 'counted_bytes');
    return { rows: removed.length, bytes };
  };

  const bumpEpoch = (ns: string, sessionId: string): void => {
    db.run('UPDATE sessions SET message_epoch = message_epoch + 1 WHERE namespace = ? AND id = ?', ns, sessionId);
  };

  const pageRows = (ns: string, sessionId: string, query: MessagePageQuery): SqlRow[] => {
    const limit = Math.max(0, query.limit);
    if (limit === 0) return [];
    const { before, after, until } = query;
    if (before) {
      return db
        .all(
          `SELECT ${COLUMNS} FROM messages WHERE ${scope} AND (${AT} < ? OR (${AT} = ? AND seq < ?)) ORDER BY ${AT} DESC, seq DESC LIMIT ?`,
          ns,
          sessionId,
          before.at,
          before.at,
          before.seq,
          limit,
        )
        .reverse();
    }
    if (after) {
      const untilSql = until ? ` AND (${AT} < ? OR (${AT} = ? AND seq <= ?))` : '';
      const untilParams: SqlParam[] = until ? [until.at, until.at, until.seq] : [];
      return db.all(
        `SELECT ${COLUMNS} FROM messages WHERE ${scope} AND (${AT} > ? OR (${AT} = ? AND seq > ?))${untilSql} ORDER BY ${AT}, seq LIMIT ?`,
        ns,
        sessionId,
        after.at,
        after.at,
        after.seq,
        ...untilParams,
        limit,
      );
    }
    return db
      .all(`SELECT ${COLUMNS} FROM messages WHERE ${scope} ORDER BY ${AT} DESC, seq DESC LIMIT ?`, ns, sessionId, limit)
      .reverse();
  };

  return {
    async append(ns, sessionId, input) {
      const result = db.write((): AppendMessageResult => {
        const session = db.get(
          'SELECT last_message_seq, attached_sockets FROM sessions WHERE namespace = ? AND id = ?',
          ns,
          sessionId,
        );
        if (!session) return { ok: false, reason: 'session-not-found' };
        const attachedSockets = int(session, 'attached_sockets');
        const localId = input.localId ?? null;
        const duplicate =
          (localId !== null
            ? db.get(`SELECT ${COLUMNS} FROM messages WHERE ${scope} AND local_id = ?`, ns, sessionId, localId)
            : undefined) ??
          db.get(`SELECT ${COLUMNS} FROM messages WHERE ${scope} AND id = ?`, ns, sessionId, input.id);
        if (duplicate)
          return { ok: true, message: messageOf(duplicate), inserted: false, attachedSockets, trimmedBytes: 0 };

        const seq = Math.max(int(session, 'last_message_seq') + 1, input.seq ?? 0);
        const newest = head(ns, sessionId);
        // A row landing behind the newest position invalidates pages clients already hold.
        if (newest !== null && (input.invokedAt ?? input.createdAt) < newest.at) bumpEpoch(ns, sessionId);
        db.run('UPDATE sessions SET last_message_seq = ? WHERE namespace = ? AND id = ?', seq, ns, sessionId);
        insertRow(ns, sessionId, seq, input);
        // Keeps the newest messageHistoryLimit rows (by count, as deletes may have left gaps).
        const trimmedBytes =
          options.messageHistoryLimit > 0
            ? deleteCounting(
                ns,
                sessionId,
                `seq <= (SELECT seq FROM messages WHERE ${scope} ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
                ns,
                sessionId,
                options.messageHistoryLimit,
              ).bytes
            : 0;
        const message: MessageRow = {
          id: input.id,
          sessionId,
          seq,
          localId,
          content: input.content ?? null,
          createdAt: input.createdAt,
          invokedAt: input.invokedAt,
        };
        if (!input.event) return { ok: true, message, inserted: true, attachedSockets, trimmedBytes };
        // Same transaction as the row: both are stored, or neither.
        const event = appendEventInTransaction(db, options, ns, input.event.before + String(seq) + input.event.after);
        return { ok: true, message, inserted: true, event, attachedSockets, trimmedBytes };
      });
      // Published after COMMIT, so a subscriber that reads the log finds the event there.
      if (result.ok && result.event) {
        fanout.publish(result.event);
        return { ...result, event: { ...result.event } };
      }
      return result;
    },

    async listAfterSeq(ns, sessionId, afterSeq, limit) {
      return db
        .all(
          `SELECT ${COLUMNS} FROM messages WHERE ${scope} AND seq > ? ORDER BY seq LIMIT ?`,
          ns,
          sessionId,
          afterSeq,
          Math.max(0, limit),
        )
        .map(messageOf);
    },

    async page(ns, sessionId, query) {
      return pageRows(ns, sessionId, query).map(messageOf);
    },

    async head(ns, sessionId) {
      return head(ns, sessionId);
    },

    async queued(ns, sessionId) {
      return db
        .all(
          `SELECT ${COLUMNS} FROM messages WHERE ${scope} AND local_id IS NOT NULL AND invoked_at IS NULL ORDER BY seq`,
          ns,
          sessionId,
        )
        .map(messageOf);
    },

    async byLocalIds(ns, sessionId, localIds) {
      if (localIds.length === 0) return [];
      return db
        .all(
          `SELECT ${COLUMNS} FROM messages WHERE ${scope} AND local_id IN (SELECT value FROM json_each(?)) ORDER BY seq`,
          ns,
          sessionId,
          JSON.stringify(localIds),
        )
        .map(messageOf);
    },

    async get(ns, sessionId, idOrLocalId) {
      const row =
        db.get(`SELECT ${COLUMNS} FROM messages WHERE ${scope} AND id = ?`, ns, sessionId, idOrLocalId) ??
        db.get(`SELECT ${COLUMNS} FROM messages WHERE ${scope} AND local_id = ?`, ns, sessionId, idOrLocalId);
      return row ? messageOf(row) : null;
    },

    /** First write wins: rows already invoked keep their invokedAt. */
    async markInvoked(ns, sessionId, localIds, invokedAt) {
      return db.write(() => {
        const changed: string[] = [];
        for (const localId of new Set(localIds)) {
          const updated = db.run(
            `UPDATE messages SET invoked_at = ? WHERE ${scope} AND local_id = ? AND invoked_at IS NULL`,
            invokedAt,
            ns,
            sessionId,
            localId,
          );
          if (updated > 0) changed.push(localId);
        }
        return changed;
      });
    },

    async delete(ns, sessionId, id) {
      return db.write(() => {
        if (db.run(`DELETE FROM messages WHERE ${scope} AND id = ?`, ns, sessionId, id) === 0) return false;
        bumpEpoch(ns, sessionId);
        return true;
      });
    },

    async truncateFrom(ns, sessionId, localId, replacement) {
      return db.write(() => {
        const target = db.get(
          `SELECT ${AT} AS at, seq FROM messages WHERE ${scope} AND local_id = ?`,
          ns,
          sessionId,
          localId,
        );
        if (!target) return null;
        const at = int(target, 'at');
        const deleted = deleteCounting(
          ns,
          sessionId,
          `(${AT} > ? OR (${AT} = ? AND seq >= ?))`,
          at,
          at,
          int(target, 'seq'),
        );
        const session = db.get('SELECT last_message_seq FROM sessions WHERE namespace = ? AND id = ?', ns, sessionId);
        let seq = session ? int(session, 'last_message_seq') : 0;
        let inserted = 0;
        let insertedBytes = 0;
        for (const input of replacement) {
          const rowLocalId = input.localId ?? null;
          const exists =
            db.get(`SELECT 1 AS one FROM messages WHERE ${scope} AND id = ?`, ns, sessionId, input.id) ??
            (rowLocalId !== null
              ? db.get(`SELECT 1 AS one FROM messages WHERE ${scope} AND local_id = ?`, ns, sessionId, rowLocalId)
              : undefined);
          if (exists) continue;
          seq += 1;
          insertRow(ns, sessionId, seq, input);
          inserted += 1;
          insertedBytes += input.countedBytes ?? 0;
        }
        db.run('UPDATE sessions SET last_message_seq = ? WHERE namespace = ? AND id = ?', seq, ns, sessionId);
        bumpEpoch(ns, sessionId);
        const epoch = db.get('SELECT message_epoch FROM sessions WHERE namespace = ? AND id = ?', ns, sessionId);
        return {
          deleted: deleted.rows,
          inserted,
          deletedBytes: deleted.bytes,
          insertedBytes,
          epoch: epoch ? int(epoch, 'message_epoch') : 0,
        };
      });
    },

    async epoch(ns, sessionId) {
      const row = db.get('SELECT message_epoch FROM sessions WHERE namespace = ? AND id = ?', ns, sessionId);
      return row ? int(row, 'message_epoch') : 0;
    },
  };
}
