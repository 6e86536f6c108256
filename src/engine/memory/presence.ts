// Presence and live state in memory: the deadline table (presence-deadlines.ts) and the live
// fields of the session/machine rows, changed together in one synchronous block.
import type { PresenceStore } from '../stores/presence.js';
import type { LiveFields, PresenceKind, RefreshPresenceInput, RefreshPresenceResult } from '../types.js';
import { type MemoryState, scopedKey } from './state.js';

export function createPresenceStore(state: MemoryState): PresenceStore {
  const refreshOne = (
    ns: string,
    kind: PresenceKind,
    id: string,
    input: RefreshPresenceInput,
  ): RefreshPresenceResult => {
    const row = state.liveRowIn(ns, kind, id);
    if (!row) return { found: false, becameActive: false, changed: [], broadcastDue: false, live: {}, queued: 0 };
    const outcome = applyRefresh(row.live, input);
    state.deadlines.set(ns, kind, id, input.deadline);
    const queued = kind === 'session' ? (state.messageLogs.get(scopedKey(ns, id))?.queuedCount() ?? 0) : 0;
    return { found: true, ...outcome, live: { ...row.live }, queued };
  };
  return {
    async refresh(ns, kind, id, input) {
      return refreshOne(ns, kind, id, input);
    },

    async refreshMany(requests) {
      return requests.map(({ namespace, kind, id, input }) => refreshOne(namespace, kind, id, input));
    },

    async setLiveFields(ns, kind, id, fields) {
      const row = state.liveRowIn(ns, kind, id);
      if (!row) return null;
      Object.assign(row.live, fields);
      return { ...row.live };
    },

    async markInactive(ns, kind, id, fields) {
      const row = state.liveRowIn(ns, kind, id);
      if (!row) return { wasActive: false };
      state.deadlines.remove(ns, kind, id);
      const wasActive = row.live.active === true;
      row.live.active = false;
      Object.assign(row.live, fields);
      return { wasActive };
    },

    async expireOverdue(now, limit) {
      const expired = state.deadlines.takeOverdue(now, limit);
      for (const entry of expired) {
        const row = state.liveRowIn(entry.namespace, entry.kind, entry.id);
        if (!row) continue;
        row.live.active = false;
        if (entry.kind === 'session') row.live.thinking = false;
      }
      return expired;
    },
  };
}

interface RefreshOutcome {
  becameActive: boolean;
  changed: string[];
  broadcastDue: boolean;
}

/** Keys the refresh owns; callers' `fields` cannot override them. */
const PRESENCE_KEYS = new Set(['active', 'activeAt', 'lastBroadcastAt']);

/**
 * Mutates `live` in place with one keep-alive (as presence-refresh.lua does on Redis) and reports
 * what an announcer needs to know.
 */
export function applyRefresh(live: LiveFields, input: RefreshPresenceInput): RefreshOutcome {
  const becameActive = live.active !== true;
  const changed: string[] = becameActive ? ['active'] : [];
  live.active = true;
  const previousActiveAt = typeof live.activeAt === 'number' ? live.activeAt : 0;
  live.activeAt = Math.max(previousActiveAt, input.activeAt);

  for (const [key, value] of Object.entries(input.fields)) {
    if (PRESENCE_KEYS.has(key)) continue;
    if (live[key] !== value) changed.push(key);
    live[key] = value;
  }

  const quiet = new Set(input.quietFields ?? []);
  const visibleChange = changed.some((key) => !quiet.has(key));
  const lastBroadcastAt = typeof live.lastBroadcastAt === 'number' ? live.lastBroadcastAt : -Infinity;
  const broadcastDue = becameActive || visibleChange || input.now - lastBroadcastAt >= input.broadcastThrottleMs;
  if (broadcastDue) live.lastBroadcastAt = input.now;
  return { becameActive, changed, broadcastDue };
}
