// Per-session message log: a hash of rows plus seq, position and queue indexes, all in the
// tenant slot. Every write is one Lua script; reads are one read-only script (a consistent
// snapshot in one round trip).
import type { AppendMessageInput, AppendMessageResult, MessagePageQuery, MessagePosition, MessageRow } from '../types.js';
import { arrayOf, decimal, decodeBody, encodeAt, encodeBody, numberOf, positionBound, stringsOf } from './codec.js';
import type { RedisContext } from './context.js';
import { eventLogArgs, eventLogKeys } from './event-log.js';
import { tenantKeys } from './keys.js';

export class RedisMessages {
  constructor(private readonly context: RedisContext) {}

  async append(ns: string, sessionId: string, input: AppendMessageInput): Promise<AppendMessageResult> {
    const at = input.invokedAt ?? input.createdAt;
    const keys = [...this.keys(ns, sessionId), tenantKeys.session(ns, sessionId)];
    const args = [
      input.id,
      input.localId ?? '',
      decimal(input.createdAt),
      input.invokedAt === null ? '' : decimal(input.invokedAt),
      encodeAt(at),
      encodeBody(input.content),
      String(Math.max(0, Math.floor(this.context.options.messageHistoryLimit))),
    ];
    if (input.event) {
      keys.push(...eventLogKeys(ns));
      args.push(input.event.before, input.event.after, ...eventLogArgs(ns, this.context.options));
    }
    const reply = arrayOf(await this.context.scripts.run('messageAppend', keys, args));
    if (reply[0] === 'session-not-found') return { ok: false, reason: 'session-not-found' };
    const attachedSockets = Number(reply[2]);
    if (reply[0] !== 'inserted') return { ok: true, message: decodeRow(sessionId, reply[1]), inserted: false, attachedSockets };
    const seq = Number(reply[1]);
    const message: MessageRow = {
      id: input.id,
      sessionId,
      seq,
      localId: input.localId ?? null,
      content: input.content,
      createdAt: input.createdAt,
      invokedAt: input.invokedAt,
    };
    if (!input.event) return { ok: true, message, inserted: true, attachedSockets };
    const json = input.event.before + String(seq) + input.event.after;
    return { ok: true, message, inserted: true, attachedSockets, event: { namespace: ns, epoch: String(reply[3]), offset: Number(reply[4]), json } };
  }

  listAfterSeq(ns: string, sessionId: string, afterSeq: number, limit: number): Promise<MessageRow[]> {
    if (limit <= 0) return Promise.resolve([]);
    return this.readRows(ns, sessionId, ['after-seq', decimal(afterSeq), String(Math.floor(limit))]);
  }

  page(ns: string, sessionId: string, query: MessagePageQuery): Promise<MessageRow[]> {
    const limit = Math.floor(query.limit);
    if (!(limit > 0)) return Promise.resolve([]);
    if (query.before) return this.readRows(ns, sessionId, ['before', positionBound(query.before, 'up'), String(limit)]);
    if (query.after) {
      const until = query.until ? positionBound(query.until, 'down') : '';
      return this.readRows(ns, sessionId, ['after', positionBound(query.after, 'down'), until, String(limit)]);
    }
    return this.readRows(ns, sessionId, ['newest', String(limit)]);
  }

  async head(ns: string, sessionId: string): Promise<MessagePosition | null> {
    const reply = stringsOf(await this.context.scripts.run('messageRead', this.keys(ns, sessionId), ['head']));
    if (reply.length < 2) return null;
    return { seq: numberOf(reply[0]), at: numberOf(reply[1]) };
  }

  listQueued(ns: string, sessionId: string): Promise<MessageRow[]> {
    return this.readRows(ns, sessionId, ['queued']);
  }

  byLocalIds(ns: string, sessionId: string, localIds: string[]): Promise<MessageRow[]> {
    if (localIds.length === 0) return Promise.resolve([]);
    return this.readRows(ns, sessionId, ['local-ids', ...localIds]);
  }

  async find(ns: string, sessionId: string, idOrLocalId: string): Promise<MessageRow | null> {
    const rows = await this.readRows(ns, sessionId, ['find', idOrLocalId]);
    return rows[0] ?? null;
  }

  async markInvoked(ns: string, sessionId: string, localIds: string[], invokedAt: number): Promise<string[]> {
    if (localIds.length === 0) return [];
    const [rows, , positions, queue] = this.keys(ns, sessionId);
    const reply = await this.context.scripts.run('messageMarkInvoked', [rows, positions, queue], [decimal(invokedAt), encodeAt(invokedAt), ...localIds]);
    return stringsOf(reply);
  }

  async delete(ns: string, sessionId: string, id: string): Promise<boolean> {
    return (await this.context.scripts.run('messageDelete', this.keys(ns, sessionId), [id])) === 1;
  }

  async epoch(ns: string, sessionId: string): Promise<number> {
    return numberOf((await this.context.client.hget(tenantKeys.messages(ns, sessionId), 'epoch')) ?? undefined);
  }

  /** [message hash, seqs, positions, queue]: the KEYS prefix every message script expects. */
  private keys(ns: string, sessionId: string): [string, string, string, string] {
    return [
      tenantKeys.messages(ns, sessionId),
      tenantKeys.messageSeqs(ns, sessionId),
      tenantKeys.messagePositions(ns, sessionId),
      tenantKeys.messageQueue(ns, sessionId),
    ];
  }

  private async readRows(ns: string, sessionId: string, query: string[]): Promise<MessageRow[]> {
    const reply = await this.context.scripts.run('messageRead', this.keys(ns, sessionId), query);
    return arrayOf(reply).map((row) => decodeRow(sessionId, row));
  }
}

/** {seq, id, localId, createdAt, invokedAt, content} as the scripts return it. */
function decodeRow(sessionId: string, reply: unknown): MessageRow {
  const [seq, id, localId, createdAt, invokedAt, content] = arrayOf(reply).map((item) => (item === null ? null : String(item)));
  return {
    id: id ?? '',
    sessionId,
    seq: numberOf(seq ?? undefined),
    localId: localId ?? null,
    content: decodeBody(content ?? 'null'),
    createdAt: numberOf(createdAt ?? undefined),
    invokedAt: invokedAt === null || invokedAt === undefined ? null : numberOf(invokedAt),
  };
}
