// Session rows in memory (see state.ts for what the stores share).
import { randomUUID } from 'node:crypto';
import type { SessionStore } from '../stores/sessions.js';
import { PATCHABLE_SESSION_COLUMNS, type SessionRow } from '../types.js';
import { compareAndSetRow } from './row-compare-and-set.js';
import { type MemoryState, scopedKey } from './state.js';

export function createSessionStore(state: MemoryState): SessionStore {
  return {
    async getOrCreate(ns, input, now) {
      const tagKey = scopedKey(ns, input.tag);
      const idForTag = state.sessionIdByTag.get(tagKey);
      const byTag = idForTag === undefined ? undefined : state.sessionIn(ns, idForTag);
      if (byTag) {
        if (input.id !== undefined && input.id !== byTag.id) return { ok: false, reason: 'tag-bound-to-other-id' };
        return { ok: true, session: structuredClone(byTag), created: false };
      }
      if (input.id !== undefined) {
        const byId = state.sessionIn(ns, input.id);
        if (byId) {
          if (byId.tag === input.tag) return { ok: true, session: structuredClone(byId), created: false };
          return { ok: false, reason: 'id-bound-to-other-session' };
        }
      }
      const session: SessionRow = {
        id: input.id ?? randomUUID(),
        namespace: ns,
        tag: input.tag,
        createdAt: now,
        updatedAt: now,
        seq: 0,
        metadata: structuredClone(input.metadata ?? null),
        metadataVersion: 1,
        agentState: structuredClone(input.agentState ?? null),
        agentStateVersion: 1,
        model: input.model ?? null,
        modelReasoningEffort: input.modelReasoningEffort ?? null,
        effort: input.effort ?? null,
        serviceTier: null,
        pinned: false,
        globalPinned: false,
        ...input.stored,
        live: {},
      };
      state.sessions.set(scopedKey(ns, session.id), session);
      state.sessionIdByTag.set(tagKey, session.id);
      return { ok: true, session: structuredClone(session), created: true };
    },

    async get(ns, id) {
      const session = state.sessionIn(ns, id);
      return session ? structuredClone(session) : null;
    },

    async list(ns) {
      return [...state.sessions.values()]
        .filter((session) => session.namespace === ns)
        .map((session) => structuredClone(session));
    },

    async compareAndSet(ns, id, field, expectedVersion, value, opts) {
      return compareAndSetRow(state.sessionIn(ns, id), field, expectedVersion, value, {
        rule: opts.touchUpdatedAt ? 'max' : 'keep',
        now: opts.now,
      });
    },

    async updateColumns(ns, id, patch) {
      const session = state.sessionIn(ns, id);
      if (!session) return null;
      for (const column of PATCHABLE_SESSION_COLUMNS) {
        const value = patch[column];
        if (value !== undefined) Object.assign(session, { [column]: value });
      }
      if (patch.updatedAt !== undefined) session.updatedAt = Math.max(session.updatedAt, patch.updatedAt);
      session.seq += 1;
      return structuredClone(session);
    },

    async delete(ns, id) {
      const session = state.sessionIn(ns, id);
      if (!session) return false;
      const key = scopedKey(ns, id);
      state.sessions.delete(key);
      state.attachedSockets.delete(key);
      state.sessionIdByTag.delete(scopedKey(ns, session.tag));
      state.messageLogs.delete(key);
      state.deadlines.remove(ns, 'session', id);
      return true;
    },

    async adjustAttachedSockets(ns, sessionId, delta) {
      if (!state.sessionIn(ns, sessionId)) return;
      const key = scopedKey(ns, sessionId);
      state.attachedSockets.set(key, Math.max(0, (state.attachedSockets.get(key) ?? 0) + delta));
    },
  };
}
