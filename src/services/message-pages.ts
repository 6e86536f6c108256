// The web's view of a session's messages: upstream's pagination contract (docs/protocol.md#message-pagination), the
// queued-state reconciliation and cancellation of queued prompts, on top of the engine's
// position-ordered primitives.
import type { MessagePosition, MessageRow } from '../engine/types.js';
import type { WebMessage } from '../protocol/models.js';
import type { MessagesQuery } from '../protocol/web-rest.js';
import type { ServiceDeps } from './deps.js';
import { messageToWeb } from './wire.js';

export const DEFAULT_PAGE_LIMIT = 50;

export interface MessagesPage {
  direction: 'latest' | 'before' | 'after';
  limit: number;
  epoch: number;
  reset: boolean;
  nextBeforeSeq: number | null;
  nextBeforeAt: number | null;
  nextAfterSeq: number | null;
  nextAfterAt: number | null;
  snapshotHeadSeq: number | null;
  snapshotHeadAt: number | null;
  hasMore: boolean;
}

export interface MessagesResponse {
  messages: WebMessage[];
  page: MessagesPage;
}

export interface QueuedState {
  queuedLocalIds: string[];
  indeterminateLocalIds: string[];
  invokedLocalMessages: { localId: string; invokedAt: number }[];
}

export type CancelOutcome =
  | { status: 'cancelled'; localId: string | null }
  | { status: 'invoked'; message: WebMessage }
  | { status: 'busy'; localId: string };

function positionOf(row: MessageRow): MessagePosition {
  return { at: row.invokedAt ?? row.createdAt, seq: row.seq };
}

function compare(a: MessagePosition, b: MessagePosition): number {
  return a.at !== b.at ? a.at - b.at : a.seq - b.seq;
}

interface PageCursors {
  nextBefore: MessagePosition | null;
  nextAfter: MessagePosition | null;
  snapshotHead: MessagePosition | null;
}

function buildPage(
  base: Pick<MessagesPage, 'direction' | 'limit' | 'epoch' | 'reset' | 'hasMore'>,
  cursors: PageCursors,
): MessagesPage {
  return {
    direction: base.direction,
    limit: base.limit,
    epoch: base.epoch,
    reset: base.reset,
    nextBeforeSeq: cursors.nextBefore?.seq ?? null,
    nextBeforeAt: cursors.nextBefore?.at ?? null,
    nextAfterSeq: cursors.nextAfter?.seq ?? null,
    nextAfterAt: cursors.nextAfter?.at ?? null,
    snapshotHeadSeq: cursors.snapshotHead?.seq ?? null,
    snapshotHeadAt: cursors.snapshotHead?.at ?? null,
    hasMore: base.hasMore,
  };
}

export class MessagePages {
  constructor(private readonly deps: ServiceDeps) {}

  /** GET /api/sessions/:id/messages. The caller has checked the session's namespace. */
  async page(namespace: string, sid: string, query: MessagesQuery): Promise<MessagesResponse> {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    const epoch = await this.deps.engine.messages.epoch(namespace, sid);
    if (query.afterSeq !== undefined && query.afterAt !== undefined) {
      const after = { seq: query.afterSeq, at: query.afterAt };
      // The client's window was built under another epoch (rows were deleted or inserted behind
      // the head): it must start over, so it gets a fresh latest page flagged `reset`.
      if (query.epoch !== undefined && query.epoch !== epoch)
        return this.backward(namespace, sid, limit, epoch, undefined, true);
      const until =
        query.untilSeq !== undefined && query.untilAt !== undefined
          ? { seq: query.untilSeq, at: query.untilAt }
          : undefined;
      return this.forward(namespace, sid, limit, epoch, after, until);
    }
    const before =
      query.beforeSeq !== undefined && query.beforeAt !== undefined
        ? { seq: query.beforeSeq, at: query.beforeAt }
        : undefined;
    return this.backward(namespace, sid, limit, epoch, before, false);
  }

  /** `latest` (no cursor) and `before`. */
  private async backward(
    namespace: string,
    sid: string,
    limit: number,
    epoch: number,
    before: MessagePosition | undefined,
    reset: boolean,
  ): Promise<MessagesResponse> {
    const engine = this.deps.engine;
    const head = await engine.messages.head(namespace, sid);
    const rows = await engine.messages.page(namespace, sid, { ...(before ? { before } : {}), limit });
    const oldest = rows[0] ? positionOf(rows[0]) : null;
    const hasMore =
      oldest !== null && (await engine.messages.page(namespace, sid, { before: oldest, limit: 1 })).length > 0;
    let page = rows;
    if (!before) {
      // Queued prompts ride along out of band on the latest page so a client always sees what is
      // still waiting, however far back it sits; they do not move the cursors.
      const queued = await engine.messages.queued(namespace, sid);
      const seen = new Set(rows.map((row) => row.id));
      const extra = queued.filter((row) => !seen.has(row.id));
      if (extra.length > 0) page = [...rows, ...extra].sort((a, b) => compare(positionOf(a), positionOf(b)));
    }
    return {
      messages: page.map(messageToWeb),
      page: buildPage(
        { direction: before ? 'before' : 'latest', limit, epoch, reset, hasMore },
        { nextBefore: oldest, nextAfter: null, snapshotHead: head },
      ),
    };
  }

  /** `after` (optionally bounded by `until`). */
  private async forward(
    namespace: string,
    sid: string,
    limit: number,
    epoch: number,
    after: MessagePosition,
    until: MessagePosition | undefined,
  ): Promise<MessagesResponse> {
    const engine = this.deps.engine;
    const head = await engine.messages.head(namespace, sid);
    const snapshot = until && head ? (compare(until, head) <= 0 ? until : head) : (until ?? head);
    const base = { direction: 'after' as const, limit, epoch, reset: false };
    if (!snapshot || compare(snapshot, after) <= 0) {
      return {
        messages: [],
        page: buildPage({ ...base, hasMore: false }, { nextBefore: null, nextAfter: after, snapshotHead: snapshot }),
      };
    }
    const rows = await engine.messages.page(namespace, sid, { after, until: snapshot, limit });
    const last = rows.length > 0 ? positionOf(rows[rows.length - 1] as MessageRow) : null;
    return {
      messages: rows.map(messageToWeb),
      page: buildPage(
        { ...base, hasMore: last !== null && compare(last, snapshot) < 0 },
        { nextBefore: null, nextAfter: last ?? snapshot, snapshotHead: snapshot },
      ),
    };
  }

  /** POST …/messages/queued-state. Unknown ids appear in no list. */
  async queuedState(namespace: string, sid: string, localIds: string[]): Promise<QueuedState> {
    const unique = [...new Set(localIds)];
    const rows = unique.length > 0 ? await this.deps.engine.messages.byLocalIds(namespace, sid, unique) : [];
    const queuedLocalIds: string[] = [];
    const invokedLocalMessages: QueuedState['invokedLocalMessages'] = [];
    for (const row of rows) {
      if (row.localId === null) continue;
      if (row.invokedAt === null) queuedLocalIds.push(row.localId);
      else invokedLocalMessages.push({ localId: row.localId, invokedAt: row.invokedAt });
    }
    // This hub has no steering, so no row is ever dispatching/indeterminate.
    return { queuedLocalIds, indeterminateLocalIds: [], invokedLocalMessages };
  }

  /**
   * DELETE …/messages/:messageId (server id or localId). This hub never asks the CLI to drop a
   * prompt (upstream's `cancel-queued-message` ack path); it always takes upstream's "no CLI
   * can ack" branch: delete on the hub and announce `message-cancelled`.
   */
  async cancel(namespace: string, sid: string, idOrLocalId: string): Promise<CancelOutcome> {
    const engine = this.deps.engine;
    const row = await engine.messages.get(namespace, sid, idOrLocalId);
    if (!row) return { status: 'cancelled', localId: null };
    if (row.invokedAt !== null) return { status: 'invoked', message: messageToWeb(row) };
    // Re-read right before deleting: the CLI may have consumed it since (first write wins there).
    const fresh = await engine.messages.get(namespace, sid, row.id);
    if (!fresh) return { status: 'cancelled', localId: row.localId };
    if (fresh.invokedAt !== null) return { status: 'invoked', message: messageToWeb(fresh) };
    if (await engine.messages.delete(namespace, sid, row.id))
      await this.deps.limits.release(namespace, 'historyBytes', this.deps.limits.messageBytes(fresh.content));
    await this.deps.events.publish(namespace, {
      type: 'message-cancelled',
      sessionId: sid,
      messageId: row.id,
      localId: row.localId,
    });
    return { status: 'cancelled', localId: row.localId };
  }
}
