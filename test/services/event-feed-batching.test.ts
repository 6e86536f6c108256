// EventFeed coalesces the appends of one event-loop turn into one EventLog.appendMany per
// namespace; these tests hold it to the order a lone append per publish gave, on the memory
// engine and on a real Redis (where a batch is one script and one PUBLISH).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { createMemoryEngine } from '../../src/engine/memory/engine.js';
import { createRedisEngine } from '../../src/engine/redis/engine.js';
import type { AppendedEvent } from '../../src/engine/types.js';
import { createLogger } from '../../src/ops/logger.js';
import { EventFeed, messageReceivedEventParts } from '../../src/services/events.js';
import { getTestRedisUrl } from '../helpers/redis-server.js';
import { createSession, DEFAULT_OPTIONS, messageInput, T0, uniqueNamespace } from '../engine/contract/harness.js';

let redisUrl = '';
let stopRedis: () => Promise<void> = async () => undefined;
const engines: Engine[] = [];

beforeAll(async () => {
  const redis = await getTestRedisUrl();
  redisUrl = redis.url;
  stopRedis = redis.stop;
});

afterAll(async () => {
  await Promise.all(engines.map((engine) => engine.close()));
  await stopRedis();
});

const makers: [string, () => Promise<Engine>][] = [
  ['memory', async () => createMemoryEngine(DEFAULT_OPTIONS)],
  ['redis', async () => createRedisEngine(redisUrl, DEFAULT_OPTIONS)],
];

/** Counts appendMany calls per namespace on a real engine (the engine still does the work). */
function countingBatches(engine: Engine): { engine: Engine; batches: Map<string, number[]> } {
  const batches = new Map<string, number[]>();
  const events = engine.events;
  const counted: Engine = {
    ...engine,
    events: {
      append: (ns, json) => events.append(ns, json),
      appendMany: (ns, jsons) => {
        batches.set(ns, [...(batches.get(ns) ?? []), jsons.length]);
        return events.appendMany(ns, jsons);
      },
      read: (ns, after) => events.read(ns, after),
      subscribe: (listener) => events.subscribe(listener),
    },
  };
  return { engine: counted, batches };
}

const logger = createLogger('silent');
const typesOf = (events: { json: string }[]) => events.map((e) => (JSON.parse(e.json) as { type: string }).type);

describe.each(makers)('EventFeed batching (%s)', (_name, make) => {
  it('sends the publishes of one turn as one batch per namespace, in call order', async () => {
    const base = await make();
    engines.push(base);
    const { engine, batches } = countingBatches(base);
    const feed = new EventFeed(engine, logger);
    const [ns, other] = [uniqueNamespace(), uniqueNamespace()];
    const received: AppendedEvent[] = [];
    const unsubscribe = await feed.subscribe((event) => {
      if (event.namespace === ns || event.namespace === other) received.push(event);
    });
    await Promise.all([
      ...Array.from({ length: 5 }, (_, i) =>
        feed.publish(ns, { type: 'session-updated', sessionId: `s${i}`, data: { i } }),
      ),
      feed.publish(other, { type: 'session-removed', sessionId: 'x' }),
    ]);
    expect(batches.get(ns)).toEqual([5]);
    expect(batches.get(other)).toEqual([1]);
    const stored = (await feed.read(ns, 0)).events;
    expect(stored.map((e) => (JSON.parse(e.json) as { sessionId: string }).sessionId)).toEqual([
      's0',
      's1',
      's2',
      's3',
      's4',
    ]);
    await vi.waitFor(() => expect(received).toHaveLength(6), { timeout: 5_000, interval: 10 });
    expect(received.filter((e) => e.namespace === ns).map((e) => e.offset)).toEqual([1, 2, 3, 4, 5]);
    await unsubscribe();
  });

  it('sends queued events before a message append that writes its own event (sendPending)', async () => {
    const engine = await make();
    engines.push(engine);
    const feed = new EventFeed(engine, logger);
    const ns = uniqueNamespace();
    const session = await createSession(engine, ns);
    const published = feed.publish(ns, { type: 'session-updated', sessionId: session.id, data: { active: true } });
    // What MessageService does right before engine.messages.append with the row's event.
    feed.sendPending(ns);
    const draft = { ...messageInput({ createdAt: T0 + 1 }), localId: null, sessionId: session.id };
    const appended = engine.messages.append(ns, session.id, { ...draft, event: messageReceivedEventParts(ns, draft) });
    const after = feed.publish(ns, { type: 'session-updated', sessionId: session.id, data: { active: false } });
    await Promise.all([published, appended, after]);
    expect(typesOf((await feed.read(ns, 0)).events)).toEqual([
      'session-updated',
      'message-received',
      'session-updated',
    ]);
  });

  it('without sendPending, a direct append would overtake the queue (the guard is needed)', async () => {
    const engine = await make();
    engines.push(engine);
    const feed = new EventFeed(engine, logger);
    const ns = uniqueNamespace();
    const session = await createSession(engine, ns);
    const published = feed.publish(ns, { type: 'session-updated', sessionId: session.id, data: {} });
    const draft = { ...messageInput({ createdAt: T0 + 1 }), localId: null, sessionId: session.id };
    await engine.messages.append(ns, session.id, { ...draft, event: messageReceivedEventParts(ns, draft) });
    await published;
    expect(typesOf((await feed.read(ns, 0)).events)).toEqual(['message-received', 'session-updated']);
  });
});
