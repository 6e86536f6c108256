// Per-namespace SSE event logs in SQLite and their fan-out to this process's subscribers.
// A log's epoch is stored with it, so a cursor taken before a restart resumes after it; the
// fan-out is in-process only (the sqlite engine serves one hub process).
import { randomUUID } from 'node:crypto';
import type { EventFanout } from '../memory/event-fanout.js';
import type { EventLog } from '../stores/event-log.js';
import type { AppendedEvent, EngineOptions, EventReadResult } from '../types.js';
import { int, type SqliteConnection, text } from './connection.js';

interface LogHead {
  epoch: string;
  nextOffset: number;
  eventCount: number;
  totalBytes: number;
}

export function createEventLog(db: SqliteConnection, options: EngineOptions, fanout: EventFanout): EventLog {
  return {
    async append(ns, json) {
      const event = db.write(() => appendEventInTransaction(db, options, ns, json));
      fanout.publish(event);
      return { ...event };
    },

    async appendMany(ns, jsons) {
      const events = db.write(() => jsons.map((json) => appendEventInTransaction(db, options, ns, json)));
      for (const event of events) fanout.publish(event);
      return events.map((event) => ({ ...event }));
    },

    async read(ns, afterOffset) {
      // A snapshot read; only the first read of an unknown namespace writes (creating the log
      // then fixes its epoch, so a cursor taken from an empty log stays valid).
      return (
        db.read(() => {
          const head = existingLogHead(db, ns);
          return head ? readAfter(db, ns, head, afterOffset) : null;
        }) ?? db.write(() => readAfter(db, ns, logHead(db, ns), afterOffset))
      );
    },

    async subscribe(listener) {
      const unsubscribe = fanout.subscribe(listener);
      return async () => unsubscribe();
    },
  };
}

/**
 * Appends inside the caller's write transaction (the message store appends a row's event in the
 * row's own transaction) and trims the log: oldest first while over either limit, never the
 * event just appended. The caller publishes the event after COMMIT.
 */
export function appendEventInTransaction(
  db: SqliteConnection,
  options: EngineOptions,
  ns: string,
  json: string,
): AppendedEvent {
  const head = logHead(db, ns);
  const bytes = Buffer.byteLength(json, 'utf8');
  const offset = head.nextOffset;
  db.run('INSERT INTO events (namespace, "offset", json, bytes) VALUES (?, ?, ?, ?)', ns, offset, json, bytes);
  let count = head.eventCount + 1;
  let totalBytes = head.totalBytes + bytes;
  const overLimit = (): boolean =>
    count > 1 && (count > options.eventLogMaxEvents || totalBytes > options.eventLogMaxBytes);
  // Usually one event leaves per append: read the oldest few at a time, never the whole log.
  let cutoff = 0;
  for (let batch = 0; overLimit() && batch < head.eventCount; batch += 1) {
    const oldest = db.all(
      'SELECT "offset", bytes FROM events WHERE namespace = ? AND "offset" > ? ORDER BY "offset" LIMIT 16',
      ns,
      cutoff,
    );
    for (const row of oldest) {
      if (!overLimit()) break;
      cutoff = int(row, 'offset');
      count -= 1;
      totalBytes -= int(row, 'bytes');
    }
    if (oldest.length === 0) break;
  }
  if (cutoff > 0) db.run('DELETE FROM events WHERE namespace = ? AND "offset" <= ?', ns, cutoff);
  db.run(
    'UPDATE event_logs SET next_offset = ?, event_count = ?, total_bytes = ? WHERE namespace = ?',
    offset + 1,
    count,
    totalBytes,
    ns,
  );
  return { namespace: ns, epoch: head.epoch, offset, json };
}

function readAfter(db: SqliteConnection, ns: string, head: LogHead, afterOffset: number): EventReadResult {
  const oldest = db.get('SELECT min("offset") AS oldest FROM events WHERE namespace = ?', ns);
  const oldestOffset = oldest === undefined || oldest.oldest === null ? head.nextOffset : int(oldest, 'oldest');
  const events = db
    .all('SELECT "offset", json FROM events WHERE namespace = ? AND "offset" > ? ORDER BY "offset"', ns, afterOffset)
    .map((row) => ({ offset: int(row, 'offset'), json: text(row, 'json') }));
  return { epoch: head.epoch, nextOffset: head.nextOffset, oldestOffset, events };
}

function existingLogHead(db: SqliteConnection, ns: string): LogHead | null {
  const row = db.get('SELECT epoch, next_offset, event_count, total_bytes FROM event_logs WHERE namespace = ?', ns);
  if (!row) return null;
  return {
    epoch: text(row, 'epoch'),
    nextOffset: int(row, 'next_offset'),
    eventCount: int(row, 'event_count'),
    totalBytes: int(row, 'total_bytes'),
  };
}

/** The namespace's log head, created (with a new random epoch) on first use; inside a write transaction. */
function logHead(db: SqliteConnection, ns: string): LogHead {
  db.run(
    'INSERT OR IGNORE INTO event_logs (namespace, epoch, next_offset, event_count, total_bytes) VALUES (?, ?, 1, 0, 0)',
    ns,
    randomUUID(),
  );
  const head = existingLogHead(db, ns);
  if (!head) throw new Error(`event log of ${ns} missing right after its creation`);
  return head;
}
