// Message ingest (CLI and web), delivery of queued prompts to the CLI, consumption.
import { randomUUID } from 'node:crypto';
import type { AppendedEvent, AppendMessageInput, MessageRow } from '../engine/types.js';
import type { CliMessage } from '../protocol/models.js';
import type { MessageEvent } from '../protocol/socket-events.js';
import { sessionAccess, type AccessFailure } from './access.js';
import type { ServiceDeps } from './deps.js';
import { messageReceivedEventParts } from './events.js';
import { type LimitRefusal, LimitsService } from './limits.js';
import type { SessionService } from './sessions.js';
import { messageToCli, messageToWeb } from './wire.js';

export interface WebPrompt {
  text: string;
  localId?: string | undefined;
  attachments?: unknown[] | undefined;
}

/** Upstream records activity (updatedAt) for user messages with non-empty text. */
function isUserTextActivity(content: unknown): boolean {
  if (typeof content !== 'object' || content === null) return false;
  const c = content as { role?: unknown; content?: unknown };
  if (c.role !== 'user' || typeof c.content !== 'object' || c.content === null) return false;
  const text = (c.content as { text?: unknown }).text;
  return typeof text === 'string' && text.trim().length > 0;
}

function parseContent(message: unknown): unknown {
  if (typeof message !== 'string') return message;
  try {
    return JSON.parse(message) as unknown;
  } catch {
    return message;
  }
}

export class MessageService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly sessions: SessionService,
  ) {}

  private now(): number {
    return this.deps.clock();
  }

  /**
   * CLI `message`: store (seq + localId dedupe atomic in the engine), fan out, announce.
   * `sender.inSessionRoom`: the sending socket is one of the session's attached sockets.
   */
  async appendFromCli(
    namespace: string,
    event: MessageEvent,
    sender?: { socketId: string; inSessionRoom: boolean },
  ): Promise<
    { ok: true; message: CliMessage } | { ok: false; reason: AccessFailure } | { ok: false; refusal: LimitRefusal }
  > {
    const now = this.now();
    const createdAt =
      event.createdAt !== undefined && Number.isFinite(event.createdAt) ? Math.min(event.createdAt, now) : now;
    const localId = event.localId ?? null;
    const draft = {
      id: randomUUID(),
      sessionId: event.sid,
      content: parseContent(event.message),
      localId,
      createdAt,
      invokedAt: localId === null ? createdAt : null,
    };
    const bytes = this.deps.limits.messageBytes(draft.content);
    const room = await this.reserveHistory(namespace, bytes);
    if (!room.ok) return { ok: false, refusal: room };
    const result = await this.appendCounted(namespace, event.sid, draft, bytes);
    if (!result.ok) {
      const access = await sessionAccess(this.deps.engine, namespace, event.sid);
      return { ok: false, reason: access.ok ? 'not-found' : access.reason };
    }
    const message = result.message;
    // Usually the session's only attached socket is the sender, which is excluded: then nobody
    // would receive the update, yet in a cluster the broadcast would still cross Redis to every
    // worker. The count is never too low, so skipping on it loses nothing.
    const othersAttached = result.attachedSockets > (sender?.inSessionRoom === true ? 1 : 0);
    if (othersAttached) {
      this.deps.cli.emitUpdate(
        { kind: 'session', namespace, id: event.sid },
        {
          id: randomUUID(),
          seq: message.seq,
          createdAt: now,
          body: { t: 'new-message', sid: event.sid, message: messageToCli(message) },
        },
        sender?.socketId,
      );
    }
    await this.announceDuplicate(namespace, result);
    if (result.inserted && isUserTextActivity(message.content)) {
      await this.sessions.touchUpdatedAt(namespace, event.sid, message.createdAt);
    }
    return { ok: true, message: messageToCli(message) };
  }

  /**
   * Web prompt (POST /api/sessions/:id/messages). Stored as upstream's user envelope; rows with a
   * localId stay queued until the CLI reports them consumed.
   */
  async sendFromWeb(namespace: string, sid: string, prompt: WebPrompt): Promise<MessageRow | null> {
    const now = this.now();
    const content = {
      role: 'user',
      content: { type: 'text', text: prompt.text, ...(prompt.attachments ? { attachments: prompt.attachments } : {}) },
      meta: { sentFrom: 'webapp', deliveryMode: 'queue' },
    };
    const localId = prompt.localId ?? null;
    const draft = {
      id: randomUUID(),
      sessionId: sid,
      content,
      localId,
      createdAt: now,
      invokedAt: localId === null ? now : null,
    };
    const bytes = this.deps.limits.messageBytes(content);
    LimitsService.orThrow(await this.deps.limits.admitWebMessage(namespace, bytes));
    LimitsService.orThrow(await this.reserveHistory(namespace, bytes));
    const result = await this.appendCounted(namespace, sid, draft, bytes);
    if (!result.ok) return null;
    const message = result.message;
    this.pushToCli(namespace, sid, message);
    await this.announceDuplicate(namespace, result);
    await this.sessions.touchUpdatedAt(namespace, sid, now);
    const grace = await this.deps.engine.presence.setLiveFields(namespace, 'session', sid, {
      queuedThinkingUntil: now + this.deps.timings.queuedThinkingGraceMs,
    });
    if (grace?.active === true) {
      const turnStart = typeof grace.activeTurnStartedAt === 'number' ? grace.activeTurnStartedAt : now;
      if (grace.activeTurnStartedAt !== turnStart)
        await this.deps.engine.presence.setLiveFields(namespace, 'session', sid, { activeTurnStartedAt: turnStart });
      await this.deps.events.publish(namespace, {
        type: 'session-updated',
        sessionId: sid,
        data: { thinking: true, activeTurnStartedAt: turnStart, updatedAt: now },
      });
    }
    return message;
  }

  /**
   * Room for `bytes` more history: refused over `historyBytes`, unless the policy is
   * `drop-archived` and dropping the oldest messages of archived sessions makes room.
   */
  private async reserveHistory(namespace: string, bytes: number) {
    const first = await this.deps.limits.reserve(namespace, 'historyBytes', bytes);
    if (first.ok || this.deps.limits.historyPolicy !== 'drop-archived') return first;
    const freed = await this.dropOldestArchived(namespace, bytes);
    return freed > 0 ? this.deps.limits.reserve(namespace, 'historyBytes', bytes) : first;
  }

  /** Appends a row and its message-received event, with the history bytes already reserved. */
  private appendCounted(namespace: string, sid: string, draft: Omit<MessageRow, 'seq'>, bytes: number) {
    // The row's message-received event is appended in the same engine step: events this worker
    // published before it go first.
    this.deps.events.sendPending(namespace);
    return this.storeCounted(namespace, sid, { ...draft, event: messageReceivedEventParts(namespace, draft) }, bytes);
  }

  /**
   * Stores a row with `bytes` of history already reserved: they go back when nothing was stored,
   * and what the engine's history limit trimmed to make room goes back too.
   */
  private async storeCounted(namespace: string, sid: string, input: AppendMessageInput, bytes: number) {
    try {
      const result = await this.deps.engine.messages.append(namespace, sid, { ...input, countedBytes: bytes });
      const unused = !result.ok || !result.inserted ? bytes : 0;
      const freed = unused + (result.ok ? result.trimmedBytes : 0);
      if (freed > 0) await this.deps.limits.release(namespace, 'historyBytes', freed);
      return result;
    } catch (error) {
      await this.deps.limits.release(namespace, 'historyBytes', bytes).catch(() => undefined);
      throw error;
    }
  }

  /**
   * `HAPI_LIMIT_HISTORY_POLICY=drop-archived`: deletes the oldest messages of archived sessions
   * (least recently updated first) until `need` bytes are free. Never silent: each deletion is a
   * `message-deleted`-style epoch bump for pagers, and the count goes to the log and a metric.
   */
  private async dropOldestArchived(namespace: string, need: number): Promise<number> {
    const archived = (await this.deps.engine.sessions.list(namespace))
      .filter((row) => (row.metadata as { lifecycleState?: unknown } | null)?.lifecycleState === 'archived')
      .sort((a, b) => a.updatedAt - b.updatedAt);
    let freed = 0;
    let dropped = 0;
    for (const session of archived) {
      while (freed < need) {
        const rows = await this.deps.engine.messages.listAfterSeq(namespace, session.id, 0, 100);
        if (rows.length === 0) break;
        for (const row of rows) {
          if (freed >= need) break;
          if (await this.deps.engine.messages.delete(namespace, session.id, row.id)) {
            const size = this.deps.limits.messageBytes(row.content);
            await this.deps.limits.release(namespace, 'historyBytes', size);
            freed += size;
            dropped += 1;
          }
        }
      }
      if (freed >= need) break;
    }
    if (dropped > 0) {
      this.deps.limits.reportEvicted(namespace, dropped, freed);
      this.deps.log.warn(
        { namespace, droppedMessages: dropped, freedBytes: freed },
        'history quota: dropped the oldest messages of archived sessions',
      );
    }
    return freed;
  }

  /**
   * An inserted row's `message-received` went into the event log with the row itself; a
   * duplicate (localId retry) is announced again, as the stored row.
   */
  private async announceDuplicate(
    namespace: string,
    result: { message: MessageRow; event?: AppendedEvent | undefined },
  ): Promise<void> {
    if (result.event) return;
    await this.deps.events.publish(namespace, {
      type: 'message-received',
      sessionId: result.message.sessionId,
      message: messageToWeb(result.message),
    });
  }

  private pushToCli(namespace: string, sid: string, message: MessageRow): void {
    this.deps.cli.emitUpdate(
      { kind: 'session', namespace, id: sid },
      {
        id: message.id,
        seq: message.seq,
        createdAt: message.createdAt,
        body: { t: 'new-message', sid, message: messageToCli(message) },
      },
    );
  }

  /**
   * Re-sends every still-queued prompt to the session room. Called when the CLI (re)attaches and
   * on each keep-alive; the CLI de-duplicates by message id.
   */
  async replayQueued(namespace: string, sid: string): Promise<number> {
    const queued = await this.deps.engine.messages.queued(namespace, sid);
    for (const message of queued) this.pushToCli(namespace, sid, message);
    return queued.length;
  }

  /** CLI `messages-consumed`. */
  async markConsumed(
    namespace: string,
    sid: string,
    localIds: string[],
    opts: { clearQueuedThinkingGrace?: boolean | undefined; steered?: boolean | undefined },
  ): Promise<'ok' | 'ignored' | AccessFailure> {
    if (localIds.length === 0) return 'ignored';
    const access = await sessionAccess(this.deps.engine, namespace, sid);
    if (!access.ok) return access.reason;
    const now = this.now();
    const changed = await this.deps.engine.messages.markInvoked(namespace, sid, localIds, now);
    if (changed.length > 0) await this.sessions.touchUpdatedAt(namespace, sid, now);
    if (opts.clearQueuedThinkingGrace === true) {
      await this.deps.engine.presence.setLiveFields(namespace, 'session', sid, { queuedThinkingUntil: 0 });
    }
    await this.deps.events.publish(namespace, {
      type: 'messages-consumed',
      sessionId: sid,
      localIds,
      invokedAt: now,
      ...(opts.steered === true ? { steered: true as const } : {}),
    });
    return 'ok';
  }

  /** On session end (except `cleared`), queued prompts are stamped invoked so the web stops waiting. */
  async sweepQueuedOnEnd(namespace: string, sid: string): Promise<void> {
    const queued = await this.deps.engine.messages.queued(namespace, sid);
    const localIds = queued.map((m) => m.localId).filter((id): id is string => id !== null);
    if (localIds.length === 0) return;
    const now = this.now();
    const changed = await this.deps.engine.messages.markInvoked(namespace, sid, localIds, now);
    if (changed.length > 0) {
      await this.deps.events.publish(namespace, {
        type: 'messages-consumed',
        sessionId: sid,
        localIds: changed,
        invokedAt: now,
      });
    }
  }

  /** Prompts still queued for the CLI (uninvoked rows with a localId), ascending seq. */
  queued(namespace: string, sid: string): Promise<MessageRow[]> {
    return this.deps.engine.messages.queued(namespace, sid);
  }

  /** Every stored row of a session in position order (fork copies, history checks). */
  async all(namespace: string, sid: string): Promise<MessageRow[]> {
    const rows: MessageRow[] = [];
    for (let afterSeq = 0; ; ) {
      const batch = await this.deps.engine.messages.listAfterSeq(namespace, sid, afterSeq, 500);
      rows.push(...batch);
      const last = batch.at(-1);
      if (!last || batch.length < 500) break;
      afterSeq = last.seq;
    }
    return rows.sort((a, b) => (a.invokedAt ?? a.createdAt) - (b.invokedAt ?? b.createdAt) || a.seq - b.seq);
  }

  /**
   * Copies rows (content, times, localIds) into another session under new ids, in order. The
   * copies count against the namespace's history quota: a fork over it fails with the refusal.
   */
  async copyInto(namespace: string, sid: string, rows: readonly MessageRow[]): Promise<void> {
    for (const row of rows) {
      const bytes = this.deps.limits.messageBytes(row.content);
      LimitsService.orThrow(await this.deps.limits.reserve(namespace, 'historyBytes', bytes));
      await this.storeCounted(
        namespace,
        sid,
        {
          id: randomUUID(),
          content: row.content,
          localId: row.localId,
          createdAt: row.createdAt,
          invokedAt: row.invokedAt,
        },
        bytes,
      );
    }
  }

  /**
   * Rewind: cuts the history at `localId` (that row and everything at or after its position) and
   * appends the CLI's replacement rows, in one engine step; then tells every viewer where the cut
   * is (SSE messages-invalidated {reason:'rewind', truncateFromLocalId}). False when no row has
   * that localId.
   */
  async rewind(
    namespace: string,
    sid: string,
    localId: string,
    replacement: readonly {
      content: unknown;
      localId?: string | null;
      createdAt?: number;
      invokedAt?: number | null;
    }[],
  ): Promise<boolean> {
    const now = this.now();
    const result = await this.deps.engine.messages.truncateFrom(
      namespace,
      sid,
      localId,
      replacement.map((row) => {
        const createdAt = row.createdAt ?? now;
        return {
          id: randomUUID(),
          content: row.content,
          localId: row.localId ?? null,
          createdAt,
          invokedAt: row.invokedAt === undefined ? createdAt : row.invokedAt,
          countedBytes: this.deps.limits.messageBytes(row.content),
        };
      }),
    );
    if (result === null) return false;
    await this.deps.limits.recordHistoryRewrite(namespace, result.deletedBytes, result.insertedBytes);
    await this.deps.events.publish(namespace, {
      type: 'messages-invalidated',
      sessionId: sid,
      reason: 'rewind',
      truncateFromLocalId: localId,
    });
    return true;
  }

  /** Whether the session has stored any message yet. */
  async hasAny(namespace: string, sid: string): Promise<boolean> {
    return (await this.deps.engine.messages.head(namespace, sid)) !== null;
  }

  /** GET /cli/sessions/:id/messages — CLI backfill by seq. */
  async listAfterSeq(namespace: string, sid: string, afterSeq: number, limit: number): Promise<CliMessage[]> {
    const rows = await this.deps.engine.messages.listAfterSeq(namespace, sid, afterSeq, limit);
    return rows.map(messageToCli);
  }

  /** One message by server id or localId (web routes acting on a single queued message). */
  find(namespace: string, sid: string, idOrLocalId: string): Promise<MessageRow | null> {
    return this.deps.engine.messages.get(namespace, sid, idOrLocalId);
  }
}
