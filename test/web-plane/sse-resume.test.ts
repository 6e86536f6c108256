// SSE resume: `ok` replays exactly what was missed (also across hub instances sharing one
// engine, i.e. across workers), `gap` for every cursor that cannot be honoured, and the
// replay → live hand-over neither loses nor duplicates nor reorders events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryEngine } from '../../src/engine/memory/engine.js';
import type { Engine } from '../../src/engine/engine.js';
import type { AppendedEvent, EngineOptions, EventListener } from '../../src/engine/types.js';
import { openSse, splitEventId, within, type SseClient, type SseFrame } from '../helpers/sse-client.js';
import {
  createSession,
  eventId,
  expectedTag,
  jwtFor,
  logHead,
  marker,
  publish,
  startTestHub,
  type TestHub,
} from '../helpers/sse-fixtures.js';

const NS = 'resume-ns';
const ENGINE_OPTIONS: EngineOptions = {
  eventLogMaxEvents: 1024,
  eventLogMaxBytes: 8 * 1024 * 1024,
  messageHistoryLimit: 0,
};

/** The `n` of a marker event (session-updated data.n), or undefined for other frames. */
function markerOf(frame: SseFrame): number | undefined {
  const data = frame.event.data;
  return typeof data === 'object' && data !== null && 'n' in data && typeof data.n === 'number' ? data.n : undefined;
}

const isMarker = (frame: SseFrame): boolean => markerOf(frame) !== undefined;

async function hello(sse: SseClient): Promise<{ resume: unknown; subscriptionId: unknown }> {
  expect(sse.status).toBe(200);
  const first = await sse.next();
  expect(first.event.type).toBe('connection-changed');
  const data = first.event.data as { resume: unknown; subscriptionId: unknown };
  return { resume: data.resume, subscriptionId: data.subscriptionId };
}

/** Publishes a marker and returns the next marker frame: proves what comes after the replay. */
async function liveProbe(t: TestHub, sse: SseClient, ns: string, n: number): Promise<SseFrame[]> {
  await publish(t, ns, marker('probe', n));
  const seen: SseFrame[] = [];
  for (;;) {
    const frame = await sse.next(isMarker);
    seen.push(frame);
    if (markerOf(frame) === n) return seen;
  }
}

describe('SSE resume within one hub', () => {
  let t: TestHub;
  let jwt: string;

  beforeAll(async () => {
    t = await startTestHub({ eventLogMaxEvents: 5 });
    jwt = await jwtFor(t, NS);
  });
  afterAll(async () => {
    await t.close();
  });

  it('after a disconnect replays exactly the missed events, in order, then goes live', async () => {
    const first = await openSse(t.url, { token: jwt, query: { all: 'true' } });
    await hello(first);
    await publish(t, NS, marker('s', 1));
    await publish(t, NS, marker('s', 2));
    const seen = await first.collect(2, isMarker);
    first.close();
    const cursor = seen[1]?.id;
    await publish(t, NS, marker('s', 3));
    await publish(t, NS, marker('s', 4));
    await publish(t, NS, marker('s', 5));

    const again = await openSse(t.url, { token: jwt, query: { all: 'true', lastEventId: cursor ?? '' } });
    expect((await hello(again)).resume).toBe('ok');
    const frames = await liveProbe(t, again, NS, 6);
    expect(frames.map(markerOf)).toEqual([3, 4, 5, 6]);
    const offsets = frames.map((f) => splitEventId(f.id).offset);
    expect(offsets).toEqual([1, 2, 3, 4].map((k) => splitEventId(cursor).offset + k));
    again.close();
  });

  it('answers ok with no replay for a cursor at the head of the log', async () => {
    await publish(t, NS, marker('s', 10));
    const head = await logHead(t, NS);
    const sse = await openSse(t.url, {
      token: jwt,
      query: { all: 'true', lastEventId: eventId(head.epoch, head.nextOffset - 1, NS) },
    });
    expect((await hello(sse)).resume).toBe('ok');
    expect((await liveProbe(t, sse, NS, 11)).map(markerOf)).toEqual([11]);
    sse.close();
  });

  it('replays the oldest retained event for a cursor just before it, but gaps once events were evicted', async () => {
    for (let n = 20; n < 30; n += 1) await publish(t, NS, marker('s', n));
    const head = await logHead(t, NS); // 5 retained: oldestOffset .. nextOffset-1
    expect(head.nextOffset - head.oldestOffset).toBe(5);

    const edge = await openSse(t.url, {
      token: jwt,
      query: { all: 'true', lastEventId: eventId(head.epoch, head.oldestOffset - 1, NS) },
    });
    expect((await hello(edge)).resume).toBe('ok');
    expect((await liveProbe(t, edge, NS, 30)).map(markerOf)).toEqual([25, 26, 27, 28, 29, 30]);
    edge.close();

    const evicted = await openSse(t.url, {
      token: jwt,
      query: { all: 'true', lastEventId: eventId(head.epoch, head.oldestOffset - 2, NS) },
    });
    expect((await hello(evicted)).resume).toBe('gap');
    expect((await liveProbe(t, evicted, NS, 31)).map(markerOf)).toEqual([31]);
    evicted.close();
  });

  it('answers gap, with no replay, for every cursor it cannot honour', async () => {
    await publish(t, NS, marker('s', 40));
    const head = await logHead(t, NS);
    const last = head.nextOffset - 1;
    await jwtFor(t, 'resume-other'); // registers the namespace
    await publish(t, 'resume-other', marker('s', 41));
    const other = await logHead(t, 'resume-other');
    const cursors: [string, string | undefined][] = [
      ['no cursor', undefined],
      ['not an id', 'garbage'],
      ['two parts', `${head.epoch}:${last}`],
      ['four parts', `${head.epoch}:${last}:${expectedTag(head.epoch, NS)}:x`],
      ['non-numeric offset', `${head.epoch}:abc:${expectedTag(head.epoch, NS)}`],
      ['fractional offset', `${head.epoch}:1.5:${expectedTag(head.epoch, NS)}`],
      ['negative offset', `${head.epoch}:-1:${expectedTag(head.epoch, NS)}`],
      ['offset 0', eventId(head.epoch, 0, NS)],
      ['offset not issued yet', eventId(head.epoch, head.nextOffset, NS)],
      ['unsafe integer offset', `${head.epoch}:9007199254740993:${expectedTag(head.epoch, NS)}`],
      ['other epoch', eventId('0b5e55ed-0000-4000-8000-000000000000', last, NS)],
      ['other namespace tag, same epoch', `${head.epoch}:${last}:${expectedTag(head.epoch, 'resume-other')}`],
      ['real cursor of another namespace', eventId(other.epoch, other.nextOffset - 1, 'resume-other')],
    ];
    for (const [label, cursor] of cursors) {
      const sse = await openSse(t.url, {
        token: jwt,
        query: { all: 'true', ...(cursor !== undefined ? { lastEventId: cursor } : {}) },
      });
      expect({ label, resume: (await hello(sse)).resume }).toEqual({ label, resume: 'gap' });
      // Nothing replayed: the first event after the handshake is the live probe.
      expect({ label, markers: (await liveProbe(t, sse, NS, 42)).map(markerOf) }).toEqual({ label, markers: [42] });
      sse.close();
    }
  });

  it('lets a non-blank Last-Event-ID header win over the lastEventId query', async () => {
    await publish(t, NS, marker('s', 50));
    const head = await logHead(t, NS);
    const cursor = eventId(head.epoch, head.nextOffset - 1, NS);
    await publish(t, NS, marker('s', 51));

    const headerWins = await openSse(t.url, {
      token: jwt,
      query: { all: 'true', lastEventId: 'garbage' },
      headers: { 'last-event-id': cursor },
    });
    expect((await hello(headerWins)).resume).toBe('ok');
    expect((await liveProbe(t, headerWins, NS, 52)).map(markerOf)).toEqual([51, 52]);
    headerWins.close();

    const badHeader = await openSse(t.url, {
      token: jwt,
      query: { all: 'true', lastEventId: cursor },
      headers: { 'last-event-id': 'garbage' },
    });
    expect((await hello(badHeader)).resume).toBe('gap');
    badHeader.close();

    const blankHeader = await openSse(t.url, {
      token: jwt,
      query: { all: 'true', lastEventId: cursor },
      headers: { 'last-event-id': '   ' },
    });
    expect((await hello(blankHeader)).resume).toBe('ok');
    blankHeader.close();
  });

  it("filters the replay with the new connection's filter", async () => {
    const mine = await createSession(t, NS);
    const head = await logHead(t, NS);
    const cursor = eventId(head.epoch, head.nextOffset - 1, NS);
    await publish(t, NS, marker(mine, 60));
    await publish(t, NS, marker('someone-else', 61));
    await publish(t, NS, marker(mine, 62));
    const sse = await openSse(t.url, { token: jwt, query: { sessionId: mine, lastEventId: cursor } });
    expect((await hello(sse)).resume).toBe('ok');
    await publish(t, NS, marker(mine, 63));
    expect((await sse.collect(3, isMarker)).map(markerOf)).toEqual([60, 62, 63]);
    sse.close();
  });
});

describe('SSE resume across hub instances sharing one engine (workers)', () => {
  let engine: Engine;
  let a: TestHub;
  let b: TestHub;

  beforeAll(async () => {
    engine = createMemoryEngine(ENGINE_OPTIONS);
    a = await startTestHub({ engine });
    b = await startTestHub({ engine, cliApiToken: a.token });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await engine.close();
  });

  it('delivers events appended by another worker live, and resumes on the other worker with ok', async () => {
    const jwt = await jwtFor(a, NS);
    const onA = await openSse(a.url, { token: jwt, query: { all: 'true' } });
    await hello(onA);
    await publish(b, NS, marker('s', 1)); // produced on worker B, delivered by worker A
    const cursorFrame = await onA.next(isMarker);
    expect(markerOf(cursorFrame)).toBe(1);
    onA.close();

    const sessionId = await (async () => {
      const outcome = await b.hub.services.sessions.createOrLoad(NS, { tag: 'cross-worker', metadata: { path: '/w' } });
      if (!outcome.ok) throw new Error(outcome.error);
      return outcome.session.id;
    })();
    await publish(b, NS, marker(sessionId, 2));
    await publish(a, NS, marker(sessionId, 3));

    // Reconnect to worker B (the JWT secret lives in the shared engine).
    const onB = await openSse(b.url, { token: jwt, query: { all: 'true', lastEventId: cursorFrame.id ?? '' } });
    expect((await hello(onB)).resume).toBe('ok');
    const added = await onB.next();
    expect(added.event).toMatchObject({ type: 'session-added', sessionId });
    expect(splitEventId(added.id).offset).toBe(splitEventId(cursorFrame.id).offset + 1);
    expect((await liveProbe(a, onB, NS, 4)).map(markerOf)).toEqual([2, 3, 4]);
    onB.close();
  });
});

/**
 * A memory engine whose event log lets a test run code right before and right after a log read,
 * and hand listeners an event as if another incarnation of the log had appended it.
 */
type HookedEngine = Engine & {
  beforeRead: (() => Promise<void>) | null;
  afterRead: (() => Promise<void>) | null;
  /** Live deliveries to swallow (the events stay in the log), as a lossy transport would. */
  dropDeliveries: number;
  inject(event: AppendedEvent): void;
};

function createHookedEngine(options: EngineOptions): HookedEngine {
  const base = createMemoryEngine(options);
  const listeners = new Set<EventListener>();
  let fanout: Promise<() => Promise<void>> | undefined;
  const hooked: HookedEngine = {
    ...base,
    beforeRead: null,
    afterRead: null,
    dropDeliveries: 0,
    inject(event) {
      for (const listener of listeners) listener(event);
    },
    events: {
      append: (ns, json) => base.events.append(ns, json),
      appendMany: (ns, jsons) => base.events.appendMany(ns, jsons),
      async subscribe(listener) {
        // One delivery path for all of the process's listeners, as on a real bus: a dropped
        // delivery is lost to every listener, whichever of them subscribed first.
        fanout ??= base.events.subscribe((event) => {
          if (hooked.dropDeliveries > 0) {
            hooked.dropDeliveries -= 1;
            return;
          }
          for (const each of listeners) each(event);
        });
        await fanout;
        listeners.add(listener);
        return async () => {
          listeners.delete(listener);
        };
      },
      async read(ns, afterOffset) {
        const before = hooked.beforeRead;
        const after = hooked.afterRead;
        hooked.beforeRead = null;
        hooked.afterRead = null;
        if (before) await before();
        const result = await base.events.read(ns, afterOffset);
        if (after) await after();
        return result;
      },
    },
  };
  return hooked;
}

describe('SSE replay → live hand-over', () => {
  let engine: HookedEngine;
  let t: TestHub;
  let jwt: string;

  beforeAll(async () => {
    engine = createHookedEngine(ENGINE_OPTIONS);
    t = await startTestHub({ engine, sseMaxBufferedBytes: 64 * 1024 });
    jwt = await jwtFor(t, NS);
  });
  afterAll(async () => {
    await t.close();
    await engine.close();
  });

  it('writes events appended between registration and the log read exactly once, in order', async () => {
    await publish(t, NS, marker('s', 0));
    const head = await logHead(t, NS);
    const cursor = eventId(head.epoch, head.nextOffset - 1, NS);
    await publish(t, NS, marker('s', 1)); // missed before the reconnect: replay only
    // Appended after the connection joined the fan-out but before the read: both live-held and
    // in the replay. Appended after the read: live-held only.
    engine.beforeRead = async () => {
      await publish(t, NS, marker('s', 2));
      await publish(t, NS, marker('s', 3));
    };
    engine.afterRead = async () => {
      await publish(t, NS, marker('s', 4));
      await publish(t, NS, marker('s', 5));
    };
    const sse = await openSse(t.url, { token: jwt, query: { all: 'true', lastEventId: cursor } });
    expect((await hello(sse)).resume).toBe('ok');
    const frames = await liveProbe(t, sse, NS, 6);
    expect(frames.map(markerOf)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(frames.map((f) => splitEventId(f.id).offset)).toEqual(
      [1, 2, 3, 4, 5, 6].map((k) => head.nextOffset - 1 + k),
    );
    sse.close();
  });

  it('keeps offsets gap-free and strictly increasing when a burst is published during a large replay', async () => {
    await publish(t, NS, marker('s', 1000));
    const head = await logHead(t, NS);
    const cursor = head.nextOffset - 1;
    // 300 KiB of missed events: more than the 64 KiB queue bound, so the replay has to wait for
    // the socket to drain several times while the burst below is being appended.
    for (let n = 0; n < 300; n += 1) await publish(t, NS, marker('s', 2000 + n, 1024));
    const connecting = openSse(t.url, {
      token: jwt,
      query: { all: 'true', lastEventId: eventId(head.epoch, cursor, NS) },
    });
    const burst = (async () => {
      for (let n = 0; n < 100; n += 1) {
        await publish(t, NS, marker('s', 5000 + n));
        // Yield to I/O between appends so they interleave with the handshake and the replay.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    })();
    const sse = await connecting;
    expect((await hello(sse)).resume).toBe('ok');
    await burst;
    const frames: SseFrame[] = [];
    for (;;) {
      const frame = await sse.next(isMarker);
      frames.push(frame);
      if (markerOf(frame) === 5099) break;
    }
    const offsets = frames.map((f) => splitEventId(f.id).offset);
    expect(offsets[0]).toBe(cursor + 1);
    expect(offsets).toEqual(offsets.map((_, i) => cursor + 1 + i));
    expect(frames.map(markerOf)).toEqual([
      ...Array.from({ length: 300 }, (_, i) => 2000 + i),
      ...Array.from({ length: 100 }, (_, i) => 5000 + i),
    ]);
    sse.close();
  });

  it('ends the stream when the log changes epoch under it, and the old cursor then gets gap', async () => {
    const sse = await openSse(t.url, { token: jwt, query: { all: 'true' } });
    expect((await hello(sse)).resume).toBe('gap');
    await publish(t, NS, marker('s', 1));
    const last = await sse.next(isMarker);
    // As if the shared log had been lost and recreated (e.g. Redis flushed): offsets restart.
    engine.inject({
      namespace: NS,
      epoch: 'new-epoch',
      offset: 1,
      json: JSON.stringify({ ...marker('s', 2), namespace: NS }),
    });
    await within(sse.ended, 3_000, 'the stream to end after the epoch change');
    expect(sse.frames.filter(isMarker).map(markerOf)).toEqual([1]);

    const bogus = await openSse(t.url, {
      token: jwt,
      query: { all: 'true', lastEventId: `new-epoch:1:${expectedTag('new-epoch', NS)}` },
    });
    expect((await hello(bogus)).resume).toBe('gap');
    bogus.close();
    // The real log did not change here, so the real cursor still resumes.
    const again = await openSse(t.url, { token: jwt, query: { all: 'true', lastEventId: last.id ?? '' } });
    expect((await hello(again)).resume).toBe('ok');
    again.close();
  });

  it('ends started streams when a live delivery was lost (offset hole), and the replay fills it', async () => {
    const sse = await openSse(t.url, { token: jwt, query: { all: 'true' } });
    await hello(sse);
    await publish(t, NS, marker('s', 1));
    const seen = await sse.next(isMarker);
    engine.dropDeliveries = 1;
    await publish(t, NS, marker('s', 2)); // in the log, never delivered live
    await publish(t, NS, marker('s', 3)); // delivered: one offset too far
    await within(sse.ended, 3_000, 'the stream to end after a delivery hole');
    expect(sse.frames.filter(isMarker).map(markerOf)).toEqual([1]);
    const again = await openSse(t.url, { token: jwt, query: { all: 'true', lastEventId: seen.id ?? '' } });
    expect((await hello(again)).resume).toBe('ok');
    expect((await liveProbe(t, again, NS, 4)).map(markerOf)).toEqual([2, 3, 4]);
    again.close();
  });
});
