// One session's messages in memory. Every method runs synchronously, which is what makes each
// engine primitive built on it atomic in a single process.
import type { AppendMessageInput, MessagePageQuery, MessagePosition, MessageRow, TruncateResult } from '../types.js';

export function positionOf(row: Pick<MessageRow, 'invokedAt' | 'createdAt' | 'seq'>): MessagePosition {
  return { at: row.invokedAt ?? row.createdAt, seq: row.seq };
}

/** Lexicographic (at, seq): negative when a is older than b. */
export function comparePositions(a: MessagePosition, b: MessagePosition): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return a.seq - b.seq;
}

/**
 * A stored row keeps its content as JSON text: one string per message for the garbage collector
 * to skip, instead of an object graph it must trace on every major collection (a long-running
 * hub holds millions of messages), and a private copy by construction.
 */
type StoredRow = Omit<MessageRow, 'content'> & { contentJson: string; countedBytes: number };

function withContent(row: StoredRow, content: unknown): MessageRow {
  const { contentJson: _stored, countedBytes: _counted, ...columns } = row;
  return { ...columns, content };
}

function storedRow(sessionId: string, seq: number, input: AppendMessageInput): StoredRow {
  return {
    id: input.id,
    sessionId,
    seq,
    localId: input.localId ?? null,
    contentJson: JSON.stringify(input.content ?? null),
    createdAt: input.createdAt,
    invokedAt: input.invokedAt,
    countedBytes: input.countedBytes ?? 0,
  };
}

function countedBytesOf(rows: readonly StoredRow[]): number {
  let total = 0;
  for (const row of rows) total += row.countedBytes;
  return total;
}

function materialize(row: StoredRow): MessageRow {
  return withContent(row, JSON.parse(row.contentJson) as unknown);
}

export class SessionMessageLog {
  /** Ascending seq. */
  private readonly rows: StoredRow[] = [];
  private readonly byId = new Map<string, StoredRow>();
  private readonly byLocalId = new Map<string, StoredRow>();
  /**
   * Rows still queued for the CLI (localId set, not invoked), in seq order (insertion order:
   * rows are appended with increasing seq). Every keep-alive asks for them, so this must not be
   * a scan of the whole history.
   */
  private readonly pending = new Set<StoredRow>();
  /** Kept apart from `rows` so seqs are never reused after a delete or a history trim. */
  private lastSeq = 0;
  /** undefined = stale, recomputed on demand (a delete or invoke can move the newest position). */
  private cachedHead: MessagePosition | null | undefined = null;
  epoch = 0;

  constructor(
    private readonly sessionId: string,
    /** 0 = unlimited. */
    private readonly historyLimit: number,
  ) {}

  /** trimmedBytes: see AppendMessageResult. */
  append(input: AppendMessageInput): { row: MessageRow; inserted: boolean; trimmedBytes: number } {
    const localId = input.localId ?? null;
    const duplicate = (localId !== null ? this.byLocalId.get(localId) : undefined) ?? this.byId.get(input.id);
    if (duplicate) return { row: materialize(duplicate), inserted: false, trimmedBytes: 0 };

    this.lastSeq = Math.max(this.lastSeq + 1, input.seq ?? 0);
    const row = storedRow(this.sessionId, this.lastSeq, input);
    const head = this.head();
    const position = positionOf(row);
    // A row landing behind the newest position invalidates pages clients already hold.
    if (head !== null && position.at < head.at) this.epoch += 1;
    this.cachedHead = head === null || comparePositions(position, head) > 0 ? position : head;

    this.rows.push(row);
    this.byId.set(row.id, row);
    if (localId !== null) this.byLocalId.set(localId, row);
    if (localId !== null && row.invokedAt === null) this.pending.add(row);
    const trimmedBytes = this.trimToHistoryLimit();
    // The caller's own content: the stored text cannot be reached through it.
    return { row: withContent(row, input.content ?? null), inserted: true, trimmedBytes };
  }

  head(): MessagePosition | null {
    if (this.cachedHead === undefined) {
      let newest: MessagePosition | null = null;
      for (const row of this.rows) {
        const position = positionOf(row);
        if (newest === null || comparePositions(position, newest) > 0) newest = position;
      }
      this.cachedHead = newest;
    }
    return this.cachedHead === null ? null : { ...this.cachedHead };
  }

  listAfterSeq(afterSeq: number, limit: number): MessageRow[] {
    const start = this.firstIndexWithSeqAbove(afterSeq);
    return this.rows.slice(start, start + Math.max(0, limit)).map(materialize);
  }

  page(query: MessagePageQuery): MessageRow[] {
    return this.pageOfStored(query).map(materialize);
  }

  private pageOfStored(query: MessagePageQuery): StoredRow[] {
    const limit = Math.max(0, query.limit);
    const ordered = [...this.rows].sort((a, b) => comparePositions(positionOf(a), positionOf(b)));
    const { before, after, until } = query;
    if (before) {
      const older = ordered.filter((row) => comparePositions(positionOf(row), before) < 0);
      return limit === 0 ? [] : older.slice(-limit);
    }
    if (after) {
      return ordered
        .filter((row) => comparePositions(positionOf(row), after) > 0)
        .filter((row) => until === undefined || comparePositions(positionOf(row), until) <= 0)
        .slice(0, limit);
    }
    return limit === 0 ? [] : ordered.slice(-limit);
  }

  queued(): MessageRow[] {
    return [...this.pending].map(materialize);
  }

  queuedCount(): number {
    return this.pending.size;
  }

  byLocalIds(localIds: string[]): MessageRow[] {
    const found = new Set<StoredRow>();
    for (const localId of localIds) {
      const row = this.byLocalId.get(localId);
      if (row) found.add(row);
    }
    return [...found].sort((a, b) => a.seq - b.seq).map(materialize);
  }

  find(idOrLocalId: string): MessageRow | null {
    const row = this.byId.get(idOrLocalId) ?? this.byLocalId.get(idOrLocalId);
    return row ? materialize(row) : null;
  }

  /** First write wins: rows already invoked keep their invokedAt. */
  markInvoked(localIds: string[], invokedAt: number): string[] {
    const changed: string[] = [];
    for (const localId of new Set(localIds)) {
      const row = this.byLocalId.get(localId);
      if (!row || row.invokedAt !== null) continue;
      row.invokedAt = invokedAt;
      this.pending.delete(row);
      changed.push(localId);
    }
    if (changed.length > 0) this.cachedHead = undefined;
    return changed;
  }

  delete(id: string): boolean {
    const row = this.byId.get(id);
    if (!row) return false;
    this.rows.splice(this.rows.indexOf(row), 1);
    this.forget(row);
    this.epoch += 1;
    return true;
  }

  /** See MessageStore.truncateFrom. */
  truncateFrom(localId: string, replacement: AppendMessageInput[]): TruncateResult | null {
    const target = this.byLocalId.get(localId);
    if (!target) return null;
    const from = positionOf(target);
    const doomed = this.rows.filter((row) => comparePositions(positionOf(row), from) >= 0);
    for (const row of doomed) {
      this.rows.splice(this.rows.indexOf(row), 1);
      this.forget(row);
    }
    const inserted: StoredRow[] = [];
    for (const input of replacement) {
      const replacementLocalId = input.localId ?? null;
      if (this.byId.has(input.id) || (replacementLocalId !== null && this.byLocalId.has(replacementLocalId))) continue;
      const row = storedRow(this.sessionId, ++this.lastSeq, input);
      this.rows.push(row);
      this.byId.set(row.id, row);
      if (replacementLocalId !== null) this.byLocalId.set(replacementLocalId, row);
      if (replacementLocalId !== null && row.invokedAt === null) this.pending.add(row);
      inserted.push(row);
    }
    this.cachedHead = undefined;
    this.epoch += 1;
    return {
      deleted: doomed.length,
      inserted: inserted.length,
      deletedBytes: countedBytesOf(doomed),
      insertedBytes: countedBytesOf(inserted),
      epoch: this.epoch,
    };
  }

  /** Removes the oldest rows beyond the history limit; returns their countedBytes. */
  private trimToHistoryLimit(): number {
    if (this.historyLimit <= 0 || this.rows.length <= this.historyLimit) return 0;
    const trimmed = this.rows.splice(0, this.rows.length - this.historyLimit);
    for (const row of trimmed) this.forget(row);
    return countedBytesOf(trimmed);
  }

  private forget(row: StoredRow): void {
    this.byId.delete(row.id);
    this.pending.delete(row);
    if (row.localId !== null && this.byLocalId.get(row.localId) === row) this.byLocalId.delete(row.localId);
    this.cachedHead = undefined;
  }

  private firstIndexWithSeqAbove(seq: number): number {
    let low = 0;
    let high = this.rows.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.rows[mid]?.seq ?? Infinity) > seq) high = mid;
      else low = mid + 1;
    }
    return low;
  }
}
