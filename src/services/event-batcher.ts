// Coalesced event appends: the events this worker publishes within one turn of the event loop
// go to the engine together, one EventLog.appendMany per namespace (on Redis one script and one
// PUBLISH for all of them, so every worker's bus parses one message instead of one per event).
// Heartbeats make most of them — a session-updated every 10 s per active session — and the
// beats of one presence batch resume in the same turn, so their events meet here.
//
// Order: every EventFeed.publish goes through here, each namespace's queue is sent in call
// order, and whoever appends a namespace's event to the engine directly (a message append
// writes its message-received event in the same engine step) first sends that namespace's
// queue (sendPending). So one worker's events of a namespace keep the order in which they were
// published, as when every publish was its own append; nothing waits longer than this turn.
import type { EventLog } from '../engine/stores/event-log.js';
import type { AppendedEvent } from '../engine/types.js';
import { settleBatch, type BatchCaller } from './batch-results.js';

/** A namespace's queue is sent at once when it reaches this many events (bounds script size). */
export const MAX_EVENT_BATCH = 256;

interface Pending extends BatchCaller<AppendedEvent> {
  json: string;
}

export class EventAppendBatcher {
  private readonly queues = new Map<string, Pending[]>();
  private scheduled: NodeJS.Immediate | null = null;

  constructor(private readonly log: Pick<EventLog, 'appendMany'>) {}

  append(ns: string, json: string): Promise<AppendedEvent> {
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(ns);
      if (!queue) {
        queue = [];
        this.queues.set(ns, queue);
      }
      queue.push({ json, resolve, reject });
      if (queue.length >= MAX_EVENT_BATCH) this.sendPending(ns);
      else this.scheduled ??= setImmediate(() => this.sendAll());
    });
  }

  /** Sends the namespace's queued events now (before appending one of its events directly). */
  sendPending(ns: string): void {
    const queue = this.queues.get(ns);
    if (!queue) return;
    this.queues.delete(ns);
    this.send(ns, queue);
  }

  /** Sends every queued event now. */
  sendAll(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    const queues = [...this.queues];
    this.queues.clear();
    for (const [ns, queue] of queues) this.send(ns, queue);
  }

  private send(ns: string, queue: Pending[]): void {
    let sent: Promise<AppendedEvent[]>;
    try {
      // Called synchronously here: the engine takes the batch before anything issued after it.
      sent = this.log.appendMany(
        ns,
        queue.map((item) => item.json),
      );
    } catch (error) {
      sent = Promise.reject(error);
    }
    settleBatch(queue, sent, 'event batch');
  }
}
