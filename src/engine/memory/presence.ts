// Presence bookkeeping for the memory engine: the live-field merge of a keep-alive and the
// table of deadlines the sweeper expires.
import type { ExpiredPresence, LiveFields, PresenceKind, RefreshPresenceInput } from '../types.js';

export interface RefreshOutcome {
  becameActive: boolean;
  changed: string[];
  broadcastDue: boolean;
}

/** Keys the refresh owns; callers' `fields` cannot override them. */
const PRESENCE_KEYS = new Set(['active', 'activeAt', 'lastBroadcastAt']);

/** Mutates `live` in place with one keep-alive and reports what an announcer needs to know. */
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

interface DeadlineEntry extends ExpiredPresence {
  deadline: number;
}

export class PresenceDeadlines {
  /** Keyed by namespace, kind and id: ids are per namespace, and a session and a machine may share one. */
  private readonly entries = new Map<string, DeadlineEntry>();

  set(namespace: string, kind: PresenceKind, id: string, deadline: number): void {
    this.entries.set(entryKey(namespace, kind, id), { namespace, kind, id, deadline });
  }

  remove(namespace: string, kind: PresenceKind, id: string): void {
    this.entries.delete(entryKey(namespace, kind, id));
  }

  /** Removes and returns up to `limit` overdue entries, most overdue first. */
  takeOverdue(now: number, limit: number): ExpiredPresence[] {
    const overdue = [...this.entries.values()]
      .filter((entry) => entry.deadline <= now)
      .sort((a, b) => a.deadline - b.deadline)
      .slice(0, Math.max(0, limit));
    for (const entry of overdue) this.entries.delete(entryKey(entry.namespace, entry.kind, entry.id));
    return overdue.map(({ namespace, kind, id }) => ({ namespace, kind, id }));
  }
}

function entryKey(namespace: string, kind: PresenceKind, id: string): string {
  return `${namespace}\n${kind}\n${id}`;
}
