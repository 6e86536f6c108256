// Per-namespace SSE event log and the in-process fan-out to subscribers.
import { randomUUID } from 'node:crypto';
import type { AppendedEvent, EventListener, EventReadResult, StoredEvent } from '../types.js';

export interface EventLogLimits {
  maxEvents: number;
  maxBytes: number;
}

export class NamespaceEventLog {
  /** Fixed for the life of this log; a new engine instance is a new incarnation. */
  readonly epoch = randomUUID();
  private readonly events: { offset: number; json: string; bytes: number }[] = [];
  private totalBytes = 0;
  private nextOffset = 1;

  constructor(private readonly limits: EventLogLimits) {}

  append(json: string): StoredEvent {
    const bytes = Buffer.byteLength(json, 'utf8');
    const event = { offset: this.nextOffset++, json, bytes };
    this.events.push(event);
    this.totalBytes += bytes;
    // Evict oldest while over either limit, but never the event just appended.
    while (this.events.length > 1 && (this.events.length > this.limits.maxEvents || this.totalBytes > this.limits.maxBytes)) {
      const evicted = this.events.shift();
      if (evicted) this.totalBytes -= evicted.bytes;
    }
    return { offset: event.offset, json };
  }

  read(afterOffset: number): EventReadResult {
    const oldestOffset = this.events[0]?.offset ?? this.nextOffset;
    const events = this.events.filter((event) => event.offset > afterOffset).map(({ offset, json }) => ({ offset, json }));
    return { epoch: this.epoch, nextOffset: this.nextOffset, oldestOffset, events };
  }
}

/**
 * Delivers appended events to listeners in append order. Deliveries are queued so that a
 * listener which appends an event itself cannot make others see offsets out of order.
 */
export class EventFanout {
  private readonly listeners = new Set<EventListener>();
  private readonly pending: AppendedEvent[] = [];
  private delivering = false;

  subscribe(listener: EventListener): () => void {
    // Wrap so the same function subscribed twice gets two independent subscriptions.
    const subscription: EventListener = (event) => listener(event);
    this.listeners.add(subscription);
    return () => {
      this.listeners.delete(subscription);
    };
  }

  publish(event: AppendedEvent): void {
    this.pending.push(event);
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let next = this.pending.shift(); next; next = this.pending.shift()) {
        for (const listener of [...this.listeners]) deliverSafely(listener, next);
      }
    } finally {
      this.delivering = false;
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}

/** A listener must never break the engine: swallow its throws and its rejected promises. */
function deliverSafely(listener: EventListener, event: AppendedEvent): void {
  try {
    const returned: unknown = listener({ ...event });
    if (returned instanceof Promise) returned.catch(() => undefined);
  } catch {
    // The listener's failure is its own; other listeners and the appender carry on.
  }
}
