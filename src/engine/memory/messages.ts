// Per-session message logs in memory (one SessionMessageLog each; see state.ts).
import type { MessageStore } from '../stores/messages.js';
import { appendEventNow } from './event-log.js';
import { SessionMessageLog } from './session-message-log.js';
import { type MemoryState, scopedKey } from './state.js';

export function createMessageStore(state: MemoryState): MessageStore {
  return {
    async append(ns, sessionId, input) {
      if (!state.sessionIn(ns, sessionId)) return { ok: false, reason: 'session-not-found' };
      const key = scopedKey(ns, sessionId);
      let log = state.messageLogs.get(key);
      if (!log) {
        log = new SessionMessageLog(sessionId, state.options.messageHistoryLimit);
        state.messageLogs.set(key, log);
      }
      // The log hands out rows that share nothing with what it stores: no clone needed.
      const { row: message, inserted, trimmedBytes } = log.append(input);
      const attachedSockets = state.attachedSockets.get(key) ?? 0;
      if (!inserted || !input.event) return { ok: true, message, inserted, attachedSockets, trimmedBytes };
      // Same synchronous block as the append: no other write can come between the two.
      const event = appendEventNow(state, ns, input.event.before + String(message.seq) + input.event.after);
      return { ok: true, message, inserted, event, attachedSockets, trimmedBytes };
    },

    async listAfterSeq(ns, sessionId, afterSeq, limit) {
      return state.messageLogIn(ns, sessionId)?.listAfterSeq(afterSeq, limit) ?? [];
    },

    async page(ns, sessionId, query) {
      return state.messageLogIn(ns, sessionId)?.page(query) ?? [];
    },

    async head(ns, sessionId) {
      return state.messageLogIn(ns, sessionId)?.head() ?? null;
    },

    async queued(ns, sessionId) {
      return state.messageLogIn(ns, sessionId)?.queued() ?? [];
    },

    async byLocalIds(ns, sessionId, localIds) {
      return state.messageLogIn(ns, sessionId)?.byLocalIds(localIds) ?? [];
    },

    async get(ns, sessionId, idOrLocalId) {
      return state.messageLogIn(ns, sessionId)?.find(idOrLocalId) ?? null;
    },

    async markInvoked(ns, sessionId, localIds, invokedAt) {
      return state.messageLogIn(ns, sessionId)?.markInvoked(localIds, invokedAt) ?? [];
    },

    async delete(ns, sessionId, id) {
      return state.messageLogIn(ns, sessionId)?.delete(id) ?? false;
    },

    async truncateFrom(ns, sessionId, localId, replacement) {
      return state.messageLogIn(ns, sessionId)?.truncateFrom(localId, replacement) ?? null;
    },

    async epoch(ns, sessionId) {
      return state.messageLogIn(ns, sessionId)?.epoch ?? 0;
    },
  };
}
