// SSE across workers on the Redis engine: two hubs, each with its own engine instance (its own
// Redis connections, as two worker processes would have) against one real redis-server. Events
// produced on either worker reach streams on the other live, and a client that reconnects to the
// other worker resumes with `ok` and exactly what it missed.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisEngine } from '../../src/engine/redis/engine.js';
import type { Engine } from '../../src/engine/engine.js';
import type { EngineOptions } from '../../src/engine/types.js';
import { getTestRedisUrl } from '../helpers/redis-server.js';
import { openSse, splitEventId, type SseFrame } from '../helpers/sse-client.js';
import { expectedTag, jwtFor, marker, publish, startTestHub, type TestHub } from '../helpers/sse-fixtures.js';

const OPTIONS: EngineOptions = { eventLogMaxEvents: 1024, eventLogMaxBytes: 8 * 1024 * 1024, messageHistoryLimit: 0 };

function markerOf(frame: SseFrame): number | undefined {
  const data = frame.event.data;
  return typeof data === 'object' && data !== null && 'n' in data && typeof data.n === 'number' ? data.n : undefined;
}
const isMarker = (frame: SseFrame): boolean => markerOf(frame) !== undefined;

async function markersUntil(next: () => Promise<SseFrame>, last: number): Promise<SseFrame[]> {
  const frames: SseFrame[] = [];
  for (;;) {
    const frame = await next();
    frames.push(frame);
    if (markerOf(frame) === last) return frames;
  }
}

describe('SSE on the Redis engine across two workers', () => {
  let stopRedis: () => Promise<void> = async () => undefined;
  const engines: Engine[] = [];
  let a: TestHub;
  let b: TestHub;
  // Unique per run: REDIS_URL may point at a server other suites use too.
  const ns = `sse-redis-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    const redis = await getTestRedisUrl();
    stopRedis = redis.stop;
    const engineA = await createRedisEngine(redis.url, OPTIONS);
    const engineB = await createRedisEngine(redis.url, OPTIONS);
    engines.push(engineA, engineB);
    a = await startTestHub({ engine: engineA });
    b = await startTestHub({ engine: engineB, cliApiToken: a.token });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await Promise.all(engines.map((engine) => engine.close()));
    await stopRedis();
  });

  it('delivers events from the other worker live, and resumes on the other worker with ok', async () => {
    const jwt = await jwtFor(a, ns);
    const onA = await openSse(a.url, { token: jwt, query: { all: 'true' } });
    expect((await onA.next()).event.data).toMatchObject({ resume: 'gap' });
    await publish(b, ns, marker('s', 1));
    await publish(a, ns, marker('s', 2));
    const live = await onA.collect(2, isMarker);
    expect(live.map(markerOf)).toEqual([1, 2]);
    const cursor = splitEventId(live[1]?.id);
    expect(cursor.tag).toBe(expectedTag(cursor.epoch, ns));
    onA.close();

    for (let n = 3; n <= 6; n += 1) await publish(n % 2 === 0 ? a : b, ns, marker('s', n));
    const onB = await openSse(b.url, {
      token: jwt,
      query: { all: 'true' },
      headers: { 'last-event-id': live[1]?.id ?? '' },
    });
    expect((await onB.next()).event.data).toMatchObject({ resume: 'ok' });
    await publish(a, ns, marker('s', 7));
    const frames = await markersUntil(() => onB.next(isMarker), 7);
    expect(frames.map(markerOf)).toEqual([3, 4, 5, 6, 7]);
    expect(frames.map((f) => splitEventId(f.id).offset)).toEqual([1, 2, 3, 4, 5].map((k) => cursor.offset + k));
    onB.close();
  });

  it('keeps offsets gap-free when the other worker publishes a burst during the replay', async () => {
    const jwt = await jwtFor(a, ns);
    await publish(a, ns, marker('s', 100));
    const head = await a.engine.events.read(ns, Number.MAX_SAFE_INTEGER);
    const cursor = head.nextOffset - 1;
    for (let n = 0; n < 100; n += 1) await publish(a, ns, marker('s', 200 + n, 512));
    const connecting = openSse(a.url, {
      token: jwt,
      query: { all: 'true', lastEventId: `${head.epoch}:${cursor}:${expectedTag(head.epoch, ns)}` },
    });
    const burst = (async () => {
      for (let n = 0; n < 50; n += 1) await publish(b, ns, marker('s', 500 + n));
    })();
    const sse = await connecting;
    expect((await sse.next()).event.data).toMatchObject({ resume: 'ok' });
    await burst;
    const frames = await markersUntil(() => sse.next(isMarker), 549);
    const offsets = frames.map((f) => splitEventId(f.id).offset);
    expect(offsets).toEqual(offsets.map((_, i) => cursor + 1 + i));
    expect(frames.map(markerOf)).toEqual([
      ...Array.from({ length: 100 }, (_, i) => 200 + i),
      ...Array.from({ length: 50 }, (_, i) => 500 + i),
    ]);
    sse.close();
  });
});
