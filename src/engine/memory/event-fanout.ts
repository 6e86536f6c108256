// The in-process fan-out of appended events to this engine's subscribers.
import type { AppendedEvent, EventListener } from '../types.js';

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
