// The namespace event feed: every web-visible change is appended to the namespace's event log
// in the engine, which assigns its offset and fans it out to every worker's SSE connections.
import type { Engine } from '../engine/types.js';
import type { BroadcastEvent } from '../protocol/sync-events.js';
import type { Logger } from '../ops/logger.js';

export class EventFeed {
  constructor(
    private readonly engine: Engine,
    private readonly log: Logger,
  ) {}

  /**
   * Appends the event to its namespace's log. Failures are logged, not thrown: the state change
   * that caused the event already happened, and SSE clients recover through resume/gap.
   */
  async publish(namespace: string, event: BroadcastEvent): Promise<void> {
    const json = JSON.stringify({ ...event, namespace });
    try {
      await this.engine.appendEvent(namespace, json);
    } catch (error) {
      this.log.warn({ err: error, type: event.type, namespace }, 'event publish failed');
    }
  }
}
