// Live fan-out of appended events to this process. One dedicated subscriber connection per
// engine (a subscribed connection cannot run other commands), opened on first use; ioredis
// re-subscribes by itself after a reconnect. Events published while this process was
// disconnected are not replayed here: SSE clients catch up through EventLog.read.
import type { AppendedEvent, EventListener } from '../types.js';
import { connectRedis, type RedisClient } from '../../redis/connection.js';
import { toEngineError } from './errors.js';
import { decodeNamespace, EVENT_CHANNEL } from './keys.js';

export class RedisEventBus {
  private readonly listeners = new Set<EventListener>();
  private subscribed: Promise<void> | undefined;

  constructor(private readonly subscriber: RedisClient) {
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== EVENT_CHANNEL) return;
      const events = parseEventMessage(message);
      if (events.length === 0) return;
      const listeners = [...this.listeners];
      for (const event of events) for (const listener of listeners) deliverSafely(listener, event);
    });
  }

  async subscribe(listener: EventListener): Promise<() => Promise<void>> {
    // Wrapped so the same function subscribed twice gets two independent subscriptions.
    const subscription: EventListener = (event) => listener(event);
    this.listeners.add(subscription);
    try {
      await this.ensureSubscribed();
    } catch (error) {
      this.listeners.delete(subscription);
      throw error;
    }
    return async () => {
      this.listeners.delete(subscription);
    };
  }

  async close(): Promise<void> {
    this.listeners.clear();
    if (this.subscriber.status === 'wait') return; // never connected
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }

  private ensureSubscribed(): Promise<void> {
    this.subscribed ??= (async () => {
      if (this.subscriber.status === 'wait')
        await connectRedis(this.subscriber).catch((error: unknown) => Promise.reject(toEngineError(error)));
      await this.subscriber.subscribe(EVENT_CHANNEL);
    })().catch((error: unknown) => {
      this.subscribed = undefined; // let the next subscriber try again
      throw error;
    });
    return this.subscribed;
  }
}

/**
 * `<encoded ns> <epoch> <offset> <json>` as event-append.lua publishes one event, or
 * `#<encoded ns> <epoch> <first offset>` followed by one event JSON per line as
 * event-append-many.lua publishes a batch; the events in offset order.
 */
export function parseEventMessage(message: string): AppendedEvent[] {
  const batch = message.startsWith('#');
  const start = batch ? 1 : 0;
  const first = message.indexOf(' ', start);
  const second = message.indexOf(' ', first + 1);
  const end = batch ? message.indexOf('\n', second + 1) : message.indexOf(' ', second + 1);
  if (first < 0 || second < 0 || end < 0) return [];
  const namespace = decodeNamespace(message.slice(start, first));
  const epoch = message.slice(first + 1, second);
  const offset = Number(message.slice(second + 1, end));
  if (!batch) return [{ namespace, epoch, offset, json: message.slice(end + 1) }];
  return message
    .slice(end + 1)
    .split('\n')
    .map((json, i) => ({ namespace, epoch, offset: offset + i, json }));
}

/** A listener must never break delivery to the others: swallow throws and rejections. */
function deliverSafely(listener: EventListener, event: AppendedEvent): void {
  try {
    const returned: unknown = listener({ ...event });
    if (returned instanceof Promise) returned.catch(() => undefined);
  } catch {
    // The listener's failure is its own.
  }
}
