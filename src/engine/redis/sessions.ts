// Session rows: one hash per session in the tenant slot, a tag index and a creation-ordered list.
// Ids are per namespace, so every lookup names the namespace and stays in its slot.
import { randomUUID } from 'node:crypto';
import type { SessionStore } from '../stores/sessions.js';
import { type CreateSessionInput, PATCHABLE_SESSION_COLUMNS, type SessionRow } from '../types.js';
import { arrayOf, decimal, decodeJson, encodeJson, hashOf, liveFieldsOf, numberOf, stringsOf } from './codec.js';
import type { RedisContext } from './context.js';
import { tenantKeys } from './keys.js';
import { compareAndSetRow } from './row-compare-and-set.js';

export function createSessionStore(context: RedisContext): SessionStore {
  const { client, scripts } = context;
  return {
    /** One script: tag lookup, id check and insert together (see session-get-or-create.lua). */
    async getOrCreate(ns, input, now) {
      const idGiven = input.id !== undefined;
      const id = input.id ?? randomUUID();
      const reply = arrayOf(
        await scripts.run(
          'sessionGetOrCreate',
          [tenantKeys.sessionTags(ns), tenantKeys.sessionList(ns), tenantKeys.counters(ns), tenantKeys.session(ns, id)],
          [tenantKeys.sessionPrefix(ns), input.tag, id, idGiven ? '1' : '0', ...encodeNewSession(ns, id, input, now)],
        ),
      );
      const verdict = reply[0];
      switch (verdict) {
        case 'found':
        case 'created':
          return { ok: true, session: decodeSessionRow(hashOf(reply[1])), created: verdict === 'created' };
        case 'tag-bound-to-other-id':
        case 'id-bound-to-other-session':
          return { ok: false, reason: verdict };
        default:
          throw new Error(`unexpected session script reply: ${JSON.stringify(stringsOf(reply))}`);
      }
    },

    async get(ns, id) {
      const hash = await client.hgetall(tenantKeys.session(ns, id));
      return Object.keys(hash).length > 0 ? decodeSessionRow(hash) : null;
    },

    async list(ns) {
      const reply = await scripts.run('rowsList', [tenantKeys.sessionList(ns)], [tenantKeys.sessionPrefix(ns)]);
      return arrayOf(reply).map((row) => decodeSessionRow(hashOf(row)));
    },

    compareAndSet(ns, id, field, expectedVersion, value, opts) {
      return compareAndSetRow(context, tenantKeys.session(ns, id), field, expectedVersion, value, {
        rule: opts.touchUpdatedAt ? 'max' : 'keep',
        now: opts.now,
      });
    },

    async updateColumns(ns, id, patch) {
      const pairs: string[] = [];
      for (const column of PATCHABLE_SESSION_COLUMNS) {
        const value = patch[column];
        if (value !== undefined) pairs.push(column, encodeJson(value));
      }
      const updatedAt = patch.updatedAt === undefined ? '' : decimal(patch.updatedAt);
      const reply = await scripts.run('sessionUpdateColumns', [tenantKeys.session(ns, id)], [updatedAt, ...pairs]);
      return reply === null ? null : decodeSessionRow(hashOf(reply));
    },

    /** One script: the row, its tag, its list entry and every message key of the session. */
    async delete(ns, id) {
      const deleted = await scripts.run(
        'sessionDelete',
        [
          tenantKeys.session(ns, id),
          tenantKeys.sessionTags(ns),
          tenantKeys.sessionList(ns),
          tenantKeys.messages(ns, id),
          tenantKeys.messageSeqs(ns, id),
          tenantKeys.messagePositions(ns, id),
          tenantKeys.messageQueue(ns, id),
        ],
        [id],
      );
      return deleted === 1;
    },

    async adjustAttachedSockets(ns, sessionId, delta) {
      await scripts.run('sessionAttached', [tenantKeys.session(ns, sessionId)], [String(delta)]);
    },
  };
}

function encodeNewSession(ns: string, id: string, input: CreateSessionInput, now: number): string[] {
  const at = decimal(now);
  const stored = input.stored;
  return [
    'id',
    id,
    'namespace',
    ns,
    'tag',
    input.tag,
    'createdAt',
    at,
    'updatedAt',
    stored ? decimal(stored.updatedAt) : at,
    'seq',
    stored ? decimal(stored.seq) : '0',
    'metadata',
    encodeJson(input.metadata),
    'metadataVersion',
    stored ? decimal(stored.metadataVersion) : '1',
    'agentState',
    encodeJson(input.agentState),
    'agentStateVersion',
    stored ? decimal(stored.agentStateVersion) : '1',
    'model',
    encodeJson(input.model ?? null),
    'modelReasoningEffort',
    encodeJson(input.modelReasoningEffort ?? null),
    'effort',
    encodeJson(input.effort ?? null),
    'serviceTier',
    encodeJson(stored?.serviceTier ?? null),
    'pinned',
    encodeJson(stored?.pinned ?? false),
    'globalPinned',
    encodeJson(stored?.globalPinned ?? false),
  ];
}

export function decodeSessionRow(hash: Record<string, string>): SessionRow {
  return {
    id: hash.id ?? '',
    namespace: hash.namespace ?? '',
    tag: hash.tag ?? '',
    createdAt: numberOf(hash.createdAt),
    updatedAt: numberOf(hash.updatedAt),
    seq: numberOf(hash.seq),
    metadata: decodeJson(hash.metadata),
    metadataVersion: numberOf(hash.metadataVersion),
    agentState: decodeJson(hash.agentState),
    agentStateVersion: numberOf(hash.agentStateVersion),
    model: nullableString(hash.model),
    modelReasoningEffort: nullableString(hash.modelReasoningEffort),
    effort: nullableString(hash.effort),
    serviceTier: nullableString(hash.serviceTier),
    pinned: decodeJson(hash.pinned) === true,
    globalPinned: decodeJson(hash.globalPinned) === true,
    live: liveFieldsOf(hash),
  };
}

function nullableString(text: string | undefined): string | null {
  const value = decodeJson(text);
  return typeof value === 'string' ? value : null;
}
