// `live.waitFor` for API routes (e.g. "resume, then wait until the session reports active"):
// resolves with the first matching event of the namespace that arrives after the call.
import type { BroadcastEvent } from '../../protocol/sync-events.js';
import { SyncEventSchema } from '../../protocol/sync-events.js';
import type { LiveEventSource } from '../live-events.js';

interface Waiter {
  predicate: (event: BroadcastEvent) => boolean;
  settle(event: BroadcastEvent | null): void;
}

export class LiveWaiters implements LiveEventSource {
  private readonly byNamespace = new Map<string, Set<Waiter>>();
  private closed = false;

  waitFor(
    namespace: string,
    predicate: (event: BroadcastEvent) => boolean,
    timeoutMs: number,
  ): Promise<BroadcastEvent | null> {
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      let set = this.byNamespace.get(namespace);
      if (!set) {
        set = new Set();
        this.byNamespace.set(namespace, set);
      }
      const waiters = set;
      const waiter: Waiter = {
        predicate,
        settle: (event) => {
          clearTimeout(timer);
          waiters.delete(waiter);
          if (waiters.size === 0 && this.byNamespace.get(namespace) === waiters) this.byNamespace.delete(namespace);
          resolve(event);
        },
      };
      const timer = setTimeout(() => waiter.settle(null), timeoutMs);
      waiters.add(waiter);
    });
  }

  /** Lets the caller skip schema validation when nobody waits on this namespace. */
  hasWaiters(namespace: string): boolean {
    return (this.byNamespace.get(namespace)?.size ?? 0) > 0;
  }

  offer(namespace: string, parsed: unknown): void {
    const waiters = this.byNamespace.get(namespace);
    if (!waiters || waiters.size === 0) return;
    // Predicates are typed against BroadcastEvent, so they only ever see a validated one.
    const result = SyncEventSchema.safeParse(parsed);
    if (!result.success) return;
    const event = result.data;
    if (event.type === 'heartbeat' || event.type === 'connection-changed') return;
    for (const waiter of [...waiters]) {
      let matches = false;
      try {
        matches = waiter.predicate(event);
      } catch {
        // A throwing predicate is the caller's bug; treat it as "not this event".
      }
      if (matches) waiter.settle(event);
    }
  }

  close(): void {
    this.closed = true;
    for (const waiters of [...this.byNamespace.values()]) {
      for (const waiter of [...waiters]) waiter.settle(null);
    }
    this.byNamespace.clear();
  }
}
