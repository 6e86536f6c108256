// The event log (SSE): per-namespace numbered events and their live fan-out to every process.
import type { AppendedEvent, EventListener, EventReadResult } from '../types.js';

export interface EventLog {
  /**
   * Appends one event to the namespace's log (trimmed to the configured count/bytes) and fans
   * it out to every process's listeners, in offset order per namespace.
   */
  append(ns: string, json: string): Promise<AppendedEvent>;
  /**
   * Appends the events to the namespace's log in the given order with the outcome of that many
   * append() calls one after another (consecutive offsets, the same trimming), in one engine step
   * (on Redis one script and one PUBLISH for all of them). Returns one result per event, in order.
   */
  appendMany(ns: string, jsons: readonly string[]): Promise<AppendedEvent[]>;
  /** Events with offset > afterOffset still retained, ascending. */
  read(ns: string, afterOffset: number): Promise<EventReadResult>;
  /** Live fan-out to this process. Resolves once the subscription is active. */
  subscribe(listener: EventListener): Promise<() => Promise<void>>;
}
