// The namespace event feed: every web-visible change is appended to the namespace's event log
// in the engine, which assigns its offset and fans it out to every worker's SSE connections.
import type { Engine } from '../engine/engine.js';
import type { EventListener, EventReadResult, MessageRow } from '../engine/types.js';
import type { BroadcastEvent } from '../protocol/sync-events.js';
import type { Logger } from '../ops/logger.js';
import { EventAppendBatcher } from './event-batcher.js';
import { messageToWeb } from './wire.js';

export class EventFeed {
  /** Appends of one event-loop turn go to the engine together (event-batcher.ts). */
  private readonly batcher: EventAppendBatcher;

  constructor(
    private readonly engine: Engine,
    private readonly log: Logger,
  ) {
    this.batcher = new EventAppendBatcher(engine.events);
  }

  /**
   * Appends the event to its namespace's log. Failures are logged, not thrown: the state change
   * that caused the event already happened, and SSE clients recover through resume/gap.
   */
  async publish(namespace: string, event: BroadcastEvent): Promise<void> {
    const json = eventJson(namespace, event);
    try {
      await this.batcher.append(namespace, json);
    } catch (error) {
      this.log.warn({ err: error, type: event.type, namespace }, 'event publish failed');
    }
  }

  /**
   * Sends the namespace's published-but-queued events to the engine now. Call it right before an
   * engine write that appends one of the namespace's events itself (message append), so that
   * event cannot overtake events published before it.
   */
  sendPending(namespace: string): void {
    this.batcher.sendPending(namespace);
  }

  /** The namespace's retained events after `afterOffset` (SSE replay and resume). */
  read(namespace: string, afterOffset: number): Promise<EventReadResult> {
    return this.engine.events.read(namespace, afterOffset);
  }

  /** Every event appended to any namespace's log, by any worker, delivered to this process. */
  subscribe(listener: EventListener): Promise<() => Promise<void>> {
    return this.engine.events.subscribe(listener);
  }
}

/** The stored (and SSE) form of an event. */
function eventJson(namespace: string, event: BroadcastEvent): string {
  return JSON.stringify({ ...event, namespace });
}

/**
 * The `message-received` event for a row the engine is about to insert, as its JSON split
 * around the seq only the engine knows (AppendMessageInput.event): `before + seq + after` is
 * exactly what publish() would store for the inserted row.
 */
export function messageReceivedEventParts(
  namespace: string,
  draft: Omit<MessageRow, 'seq'>,
): { before: string; after: string } {
  const json = eventJson(namespace, {
    type: 'message-received',
    sessionId: draft.sessionId,
    message: messageToWeb({ ...draft, seq: -1 }),
  });
  // Keys before message.seq are type, sessionId, message and message.id, and a quote inside a
  // JSON string is escaped, so the first `"seq":-1,` is the placeholder.
  const at = json.indexOf(SEQ_PLACEHOLDER);
  return { before: json.slice(0, at + '"seq":'.length), after: json.slice(at + SEQ_PLACEHOLDER.length - 1) };
}

const SEQ_PLACEHOLDER = '"seq":-1,';
