// The memory engine's table of presence deadlines, which the sweeper expires.
import type { ExpiredPresence, PresenceKind } from '../types.js';

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
