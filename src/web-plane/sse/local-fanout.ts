// This process's SSE connections, grouped by namespace, and the routing of each live event from
// the engine to them. Fed by the plane's single engine subscription.
import type { SseConnection } from './connection.js';
import type { DecodedEvent } from './decoded-event.js';
import { shouldSend } from './delivery-filter.js';
import { formatEventId, namespaceTag } from './event-ids.js';
import { loggedFrame, type Frame } from './frames.js';

export type Continuity = 'next' | 'duplicate' | 'hole';

export class LocalFanout {
  private readonly byNamespace = new Map<string, Set<SseConnection>>();
  /** Last offset seen per namespace (while it has connections), to notice lost deliveries. */
  private readonly heads = new Map<string, { epoch: string; offset: number }>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** True when some connection of the namespace could want an event (skip decoding otherwise). */
  hasNamespace(namespace: string): boolean {
    return this.byNamespace.has(namespace);
  }

  add(connection: SseConnection): void {
    const namespace = connection.filter.namespace;
    let set = this.byNamespace.get(namespace);
    if (!set) {
      set = new Set();
      this.byNamespace.set(namespace, set);
    }
    if (!set.has(connection)) {
      set.add(connection);
      this.count += 1;
    }
  }

  remove(connection: SseConnection): void {
    const namespace = connection.filter.namespace;
    const set = this.byNamespace.get(namespace);
    if (!set?.delete(connection)) return;
    this.count -= 1;
    if (set.size === 0) {
      this.byNamespace.delete(namespace);
      this.heads.delete(namespace);
    }
  }

  /**
   * Checks every event of a namespace with connections against the previous one. The engine
   * promises offset order, but a transport can still lose or repeat a delivery (e.g. a pub/sub
   * reconnect). A repeat is dropped; a hole ends the namespace's started streams cleanly, so their
   * clients reconnect with their cursors and the replay from the log fills it — the log, not the
   * live feed, is the source of truth. A new epoch just restarts the count (connections on the
   * old epoch end themselves).
   */
  observe(namespace: string, epoch: string, offset: number): Continuity {
    if (!this.byNamespace.has(namespace)) return 'next';
    const head = this.heads.get(namespace);
    if (head && head.epoch === epoch) {
      if (offset <= head.offset) return 'duplicate';
      if (offset > head.offset + 1) {
        this.heads.delete(namespace);
        // Connections that have not read the log yet will read the missing event from it.
        for (const connection of [...(this.byNamespace.get(namespace) ?? [])]) {
          if (connection.started) connection.close('resync');
        }
        return 'hole';
      }
    }
    this.heads.set(namespace, { epoch, offset });
    return 'next';
  }

  /** Every connection, grouped by namespace (heartbeat, shutdown). */
  namespaces(): IterableIterator<[string, Set<SseConnection>]> {
    return this.byNamespace.entries();
  }

  /**
   * Routes one live event. The frame (with its id) is built at most once per event — the
   * namespace's tag is the same for every connection of that namespace — and shared by all.
   */
  route(namespace: string, epoch: string, event: DecodedEvent): void {
    const connections = this.byNamespace.get(namespace);
    if (!connections) return;
    let frame: Frame | undefined;
    for (const connection of [...connections]) {
      if (!shouldSend(connection.filter, event.fields)) continue;
      frame ??= loggedFrame(
        event.fields.type,
        event.line,
        formatEventId(epoch, event.offset, namespaceTag(epoch, namespace)),
      );
      connection.deliverLive(epoch, event.offset, frame);
    }
  }
}
