// The message store: each session's gap-free, seq-numbered message log.
import type {
  AppendMessageInput,
  AppendMessageResult,
  MessagePageQuery,
  MessagePosition,
  MessageRow,
  TruncateResult,
} from '../types.js';

export interface MessageStore {
  /**
   * Atomic: localId dedupe (existing row returned, inserted=false), seq = last+1, store, an
   * epoch bump when the new row's position is older than the newest position, and the optional
   * event (AppendMessageInput.event) appended to the namespace's event log in the same step.
   */
  append(ns: string, sessionId: string, input: AppendMessageInput): Promise<AppendMessageResult>;
  /** seq > afterSeq, ascending, up to limit. */
  listAfterSeq(ns: string, sessionId: string, afterSeq: number, limit: number): Promise<MessageRow[]>;
  /** Position-ordered page (see MessagePageQuery); results are returned in ascending position. */
  page(ns: string, sessionId: string, query: MessagePageQuery): Promise<MessageRow[]>;
  /** Newest position in the session, or null when it has no messages. */
  head(ns: string, sessionId: string): Promise<MessagePosition | null>;
  /** Uninvoked rows that have a localId (prompts queued for the CLI), ascending seq. */
  queued(ns: string, sessionId: string): Promise<MessageRow[]>;
  byLocalIds(ns: string, sessionId: string, localIds: string[]): Promise<MessageRow[]>;
  /** Finds by server id or localId. */
  get(ns: string, sessionId: string, idOrLocalId: string): Promise<MessageRow | null>;
  /** Stamps invokedAt on uninvoked rows with these localIds; returns the localIds that changed. */
  markInvoked(ns: string, sessionId: string, localIds: string[], invokedAt: number): Promise<string[]>;
  /** Deletes one row and bumps the epoch. */
  delete(ns: string, sessionId: string, id: string): Promise<boolean>;
  /**
   * Atomic history rewrite (rewind): removes the row with this localId and every row at or after
   * its position, appends `replacement` (new seqs; seqs are never reused), and bumps the epoch.
   * Replacement rows whose localId or id already exists among the survivors are skipped.
   * null when no row has that localId (nothing changes).
   */
  truncateFrom(
    ns: string,
    sessionId: string,
    localId: string,
    replacement: AppendMessageInput[],
  ): Promise<TruncateResult | null>;
  /** Moves whenever rows are removed or inserted out of position order (pagers restart on a change). */
  epoch(ns: string, sessionId: string): Promise<number>;
}
