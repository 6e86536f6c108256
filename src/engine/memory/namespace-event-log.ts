// One namespace's SSE event log in memory: numbered events trimmed to a count and a byte budget.
import { randomUUID } from 'node:crypto';
import type { EventReadResult, StoredEvent } from '../types.js';

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
    while (
      this.events.length > 1 &&
      (this.events.length > this.limits.maxEvents || this.totalBytes > this.limits.maxBytes)
    ) {
      const evicted = this.events.shift();
      if (evicted) this.totalBytes -= evicted.bytes;
    }
    return { offset: event.offset, json };
  }

  read(afterOffset: number): EventReadResult {
    const oldestOffset = this.events[0]?.offset ?? this.nextOffset;
    const events = this.events
      .filter((event) => event.offset > afterOffset)
      .map(({ offset, json }) => ({ offset, json }));
    return { epoch: this.epoch, nextOffset: this.nextOffset, oldestOffset, events };
  }
}
