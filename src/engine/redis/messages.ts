// Per-session message log: a hash of rows plus seq, position and queue indexes, all in the
// tenant slot. Every write is one Lua script; reads are one read-only script (a consistent
// snapshot in one round trip).
import type { MessageStore } from '../stores/messages.js';
import type { MessageRow } from '../types.js';
import { arrayOf, decimal, decodeBody, encodeAt, encodeBody, numberOf, positionBound, stringsOf } from './codec.js';
import type { RedisContext } from './context.js';
import { eventLogArgs, eventLogKeys } from './event-log.js';
import { tenantKeys } from './keys.js';

export function createMessageStore(context: RedisContext): MessageStore {
  const { client, scripts, options } = context;
  const readRows = async (ns: string, sessionId: string, query: string[]): Promise<MessageRow[]> => {
    const reply = await scripts.run('messageRead', messageKeys(ns, sessionId), query);
    return arrayOf(reply).map((row) => decodeRow(sessionId, row));
  };

  return {
    /** One script: the row and, when given, its event (message-append.lua; one round trip). */
    async append(ns, sessionId, input) {
      const at = input.invokedAt ?? input.createdAt;
      const keys = [...messageKeys(ns, sessionId), tenantKeys.session(ns, sessionId)];
      const args = [
        input.id,
        input.localId ?? '',
        decimal(input.createdAt),
        input.invokedAt === null ? '' : decimal(input.invokedAt),
        encodeAt(at),
        encodeBody(input.content),
        String(Math.max(0, Math.floor(options.messageHistoryLimit))),
        decimal(input.seq ?? 0),
        decimal(input.countedBytes ?? 0),
      ];
      if (input.event) {
        keys.push(...eventLogKeys(ns));
        args.push(input.event.before, input.event.after, ...eventLogArgs(ns, options));
      }
      const reply = arrayOf(await scripts.run('messageAppend', keys, args));
      if (reply[0] === 'session-not-found') return { ok: false, reason: 'session-not-found' };
      const attachedSockets = Number(reply[2]);
      if (reply[0] !== 'inserted')
        return { ok: true, message: decodeRow(sessionId, reply[1]), inserted: false, attachedSockets, trimmedBytes: 0 };
      const seq = Number(reply[1]);
      const trimmedBytes = Number(reply[3]);
      const message: MessageRow = {
        id: input.id,
        sessionId,
        seq,
        localId: input.localId ?? null,
        content: input.content,
        createdAt: input.createdAt,
        invokedAt: input.invokedAt,
      };
      if (!input.event) return { ok: true, message, inserted: true, attachedSockets, trimmedBytes };
      const json = input.event.before + String(seq) + input.event.after;
      return {
        ok: true,
        message,
        inserted: true,
        attachedSockets,
        trimmedBytes,
        event: { namespace: ns, epoch: String(reply[4]), offset: Number(reply[5]), json },
      };
    },

    async listAfterSeq(ns, sessionId, afterSeq, limit) {
      if (limit <= 0) return [];
      return readRows(ns, sessionId, ['after-seq', decimal(afterSeq), String(Math.floor(limit))]);
    },

    async page(ns, sessionId, query) {
      const limit = Math.floor(query.limit);
      if (!(limit > 0)) return [];
      if (query.before) return readRows(ns, sessionId, ['before', positionBound(query.before, 'up'), String(limit)]);
      if (query.after) {
        const until = query.until ? positionBound(query.until, 'down') : '';
        return readRows(ns, sessionId, ['after', positionBound(query.after, 'down'), until, String(limit)]);
      }
      return readRows(ns, sessionId, ['newest', String(limit)]);
    },

    async head(ns, sessionId) {
      const reply = stringsOf(await scripts.run('messageRead', messageKeys(ns, sessionId), ['head']));
      if (reply.length < 2) return null;
      return { seq: numberOf(reply[0]), at: numberOf(reply[1]) };
    },

    queued(ns, sessionId) {
      return readRows(ns, sessionId, ['queued']);
    },

    async byLocalIds(ns, sessionId, localIds) {
      if (localIds.length === 0) return [];
      return readRows(ns, sessionId, ['local-ids', ...localIds]);
    },

    async get(ns, sessionId, idOrLocalId) {
      const rows = await readRows(ns, sessionId, ['find', idOrLocalId]);
      return rows[0] ?? null;
    },

    async markInvoked(ns, sessionId, localIds, invokedAt) {
      if (localIds.length === 0) return [];
      const [rows, , positions, queue] = messageKeys(ns, sessionId);
      const reply = await scripts.run(
        'messageMarkInvoked',
        [rows, positions, queue],
        [decimal(invokedAt), encodeAt(invokedAt), ...localIds],
      );
      return stringsOf(reply);
    },

    async delete(ns, sessionId, id) {
      return (await scripts.run('messageDelete', messageKeys(ns, sessionId), [id])) === 1;
    },

    async truncateFrom(ns, sessionId, localId, replacement) {
      const args = [localId];
      for (const input of replacement) {
        args.push(
          input.id,
          input.localId ?? '',
          decimal(input.createdAt),
          input.invokedAt === null ? '' : decimal(input.invokedAt),
          encodeAt(input.invokedAt ?? input.createdAt),
          encodeBody(input.content),
          decimal(input.countedBytes ?? 0),
        );
      }
      const reply = arrayOf(await scripts.run('messageTruncate', messageKeys(ns, sessionId), args));
      if (reply[0] !== 'ok') return null;
      return {
        deleted: Number(reply[1]),
        inserted: Number(reply[2]),
        epoch: Number(reply[3]),
        deletedBytes: Number(reply[4]),
        insertedBytes: Number(reply[5]),
      };
    },

    async epoch(ns, sessionId) {
      return numberOf((await client.hget(tenantKeys.messages(ns, sessionId), 'epoch')) ?? undefined);
    },
  };
}

/** [message hash, seqs, positions, queue]: the KEYS prefix every message script expects. */
function messageKeys(ns: string, sessionId: string): [string, string, string, string] {
  return [
    tenantKeys.messages(ns, sessionId),
    tenantKeys.messageSeqs(ns, sessionId),
    tenantKeys.messagePositions(ns, sessionId),
    tenantKeys.messageQueue(ns, sessionId),
  ];
}

/** {seq, id, localId, createdAt, invokedAt, content} as the scripts return it. */
function decodeRow(sessionId: string, reply: unknown): MessageRow {
  const [seq, id, localId, createdAt, invokedAt, content] = arrayOf(reply).map((item) =>
    item === null ? null : String(item),
  );
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
