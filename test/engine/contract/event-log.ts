// Contract of the event log (engine.events): numbering, trimming, fan-out, and the event a
// message append writes in the same step (messages.append with `event`).
import { describe, expect, it, vi } from 'vitest';
import type { Engine } from '../../../src/engine/engine.js';
import type { AppendedEvent } from '../../../src/engine/types.js';
import { appendInserted, createSession, type EngineHarness, messageInput, T0, uniqueNamespace } from './harness.js';

/** Collects deliveries for the given namespaces only (a shared store carries other tests' events). */
async function recordEvents(engine: Engine, namespaces: string[]) {
  const received: AppendedEvent[] = [];
  const unsubscribe = await engine.events.subscribe((event) => {
    if (namespaces.includes(event.namespace)) received.push(event);
  });
  return { received, unsubscribe };
}

/** Bounded poll for asynchronous fan-out (pub/sub in distributed engines). */
async function waitForCount(received: unknown[], count: number): Promise<void> {
  await vi.waitFor(() => expect(received.length).toBeGreaterThanOrEqual(count), { timeout: 5_000, interval: 10 });
}

const jsonOfLength = (bytes: number, marker: string) =>
  JSON.stringify({ m: marker, pad: 'x'.repeat(bytes - 17 - marker.length) });

export function describeEventLogContract(harness: EngineHarness): void {
  describe('event log', () => {
    it('starts empty with a stable epoch that appends reuse', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const empty = await engine.events.read(ns, 0);
      expect(empty).toEqual({ epoch: expect.any(String), nextOffset: 1, oldestOffset: 1, events: [] });
      expect(empty.epoch.length).toBeGreaterThan(0);
      const appended = await engine.events.append(ns, '{"type":"a"}');
      expect(appended).toEqual({ namespace: ns, epoch: empty.epoch, offset: 1, json: '{"type":"a"}' });
      expect((await engine.events.read(ns, 0)).epoch).toBe(empty.epoch);
    });

    it('numbers events per namespace and reads those after an offset', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const other = uniqueNamespace();
      const payloads = ['{"n":1}', '{"n":2,"text":"héllo ✓"}', '{"n":3}'];
      for (const json of payloads) await engine.events.append(ns, json);
      expect((await engine.events.append(other, '{"other":true}')).offset).toBe(1);

      const all = await engine.events.read(ns, 0);
      expect(all).toMatchObject({ nextOffset: 4, oldestOffset: 1 });
      expect(all.events).toEqual(payloads.map((json, i) => ({ offset: i + 1, json })));
      expect((await engine.events.read(ns, 1)).events.map((e) => e.offset)).toEqual([2, 3]);
      expect(await engine.events.read(ns, 3)).toEqual({ epoch: all.epoch, nextOffset: 4, oldestOffset: 1, events: [] });
      expect((await engine.events.read(other, 0)).events).toEqual([{ offset: 1, json: '{"other":true}' }]);
    });

    it('assigns distinct consecutive offsets to concurrent appends', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const appended = await Promise.all(
        Array.from({ length: 30 }, (_, i) => engine.events.append(ns, JSON.stringify({ i }))),
      );
      expect(appended.map((e) => e.offset).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      const stored = (await engine.events.read(ns, 0)).events;
      expect(stored).toEqual(
        [...appended].sort((a, b) => a.offset - b.offset).map(({ offset, json }) => ({ offset, json })),
      );
    });

    it('keeps at most eventLogMaxEvents events', async () => {
      const engine = await harness.engineWith({ eventLogMaxEvents: 3 });
      const ns = uniqueNamespace();
      for (let i = 1; i <= 5; i += 1) await engine.events.append(ns, JSON.stringify({ i }));
      const read = await engine.events.read(ns, 0);
      expect(read).toMatchObject({ nextOffset: 6, oldestOffset: 3 });
      expect(read.events.map((e) => e.offset)).toEqual([3, 4, 5]);
      expect((await engine.events.read(ns, 4)).events).toEqual([{ offset: 5, json: '{"i":5}' }]);
      expect(await engine.events.read(ns, 5)).toMatchObject({ nextOffset: 6, oldestOffset: 3, events: [] });
    });

    it('keeps at most eventLogMaxBytes of JSON but always the newest event', async () => {
      const engine = await harness.engineWith({ eventLogMaxBytes: 100 });
      const ns = uniqueNamespace();
      const half = [jsonOfLength(50, 'a'), jsonOfLength(50, 'b')];
      expect(half.map((json) => json.length)).toEqual([50, 50]);
      for (const json of half) await engine.events.append(ns, json);
      expect((await engine.events.read(ns, 0)).events.map((e) => e.offset)).toEqual([1, 2]);

      await engine.events.append(ns, jsonOfLength(40, 'c'));
      expect(await engine.events.read(ns, 0)).toMatchObject({ oldestOffset: 2, nextOffset: 4 });
      expect((await engine.events.read(ns, 0)).events.map((e) => e.offset)).toEqual([2, 3]);

      const huge = jsonOfLength(500, 'd');
      await engine.events.append(ns, huge);
      expect(await engine.events.read(ns, 0)).toMatchObject({
        oldestOffset: 4,
        nextOffset: 5,
        events: [{ offset: 4, json: huge }],
      });
    });
  });

  describe('event log: appendMany', () => {
    it('gives each event its own consecutive offset in call order, between single appends', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const first = await engine.events.append(ns, '{"n":1}');
      const batch = await engine.events.appendMany(ns, ['{"n":2}', '{"n":3,"t":"héllo ✓"}', '{"n":4}']);
      const last = await engine.events.append(ns, '{"n":5}');
      expect(batch).toEqual([
        { namespace: ns, epoch: first.epoch, offset: 2, json: '{"n":2}' },
        { namespace: ns, epoch: first.epoch, offset: 3, json: '{"n":3,"t":"héllo ✓"}' },
        { namespace: ns, epoch: first.epoch, offset: 4, json: '{"n":4}' },
      ]);
      expect(last.offset).toBe(5);
      expect(await engine.events.appendMany(ns, [])).toEqual([]);
      expect((await engine.events.appendMany(ns, ['{"n":6}']))[0]).toMatchObject({ offset: 6, json: '{"n":6}' });
      const read = await engine.events.read(ns, 0);
      expect(read).toMatchObject({ epoch: first.epoch, nextOffset: 7, oldestOffset: 1 });
      expect(read.events.map((e) => e.json)).toEqual(
        [1, 2, 3, 4, 5, 6].map((n) => (n === 3 ? '{"n":3,"t":"héllo ✓"}' : `{"n":${n}}`)),
      );
    });

    it('starts an empty log at offset 1 with the epoch a read fixed', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const empty = await engine.events.read(ns, 0);
      const batch = await engine.events.appendMany(ns, ['{"a":1}', '{"a":2}']);
      expect(batch.map((e) => [e.epoch, e.offset])).toEqual([
        [empty.epoch, 1],
        [empty.epoch, 2],
      ]);
    });

    it('trims by count exactly as the same single appends would', async () => {
      const engine = await harness.engineWith({ eventLogMaxEvents: 3 });
      const batched = uniqueNamespace();
      const single = uniqueNamespace();
      const jsons = Array.from({ length: 5 }, (_, i) => JSON.stringify({ i }));
      await engine.events.append(batched, '{"before":1}');
      await engine.events.appendMany(batched, jsons);
      await engine.events.append(single, '{"before":1}');
      for (const json of jsons) await engine.events.append(single, json);
      const [a, b] = [await engine.events.read(batched, 0), await engine.events.read(single, 0)];
      expect(a).toMatchObject({ nextOffset: 7, oldestOffset: 4 });
      expect(a.events).toEqual(b.events);
      expect({ ...a, epoch: '' }).toEqual({ ...b, epoch: '' });
    });

    it('trims by bytes as single appends would, never dropping the newest event', async () => {
      const engine = await harness.engineWith({ eventLogMaxBytes: 100 });
      const batched = uniqueNamespace();
      const single = uniqueNamespace();
      const jsons = [jsonOfLength(50, 'a'), jsonOfLength(50, 'b'), jsonOfLength(40, 'c')];
      await engine.events.appendMany(batched, jsons);
      for (const json of jsons) await engine.events.append(single, json);
      const a = await engine.events.read(batched, 0);
      expect(a).toMatchObject({ oldestOffset: 2, nextOffset: 4 });
      expect(a.events).toEqual((await engine.events.read(single, 0)).events);

      const huge = [jsonOfLength(300, 'd'), jsonOfLength(500, 'e')];
      await engine.events.appendMany(batched, huge);
      expect(await engine.events.read(batched, 0)).toMatchObject({
        oldestOffset: 5,
        nextOffset: 6,
        events: [{ offset: 5, json: huge[1] }],
      });
      // Later appends keep counting from the trimmed state (500 + 7 bytes is over the limit).
      await engine.events.append(batched, '{"f":1}');
      expect(await engine.events.read(batched, 0)).toMatchObject({ oldestOffset: 6, nextOffset: 7 });
    });

    it('delivers every event of concurrent batches and single appends once, in offset order', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const other = uniqueNamespace();
      const { received, unsubscribe } = await recordEvents(engine, [ns, other]);
      const results = await Promise.all([
        engine.events.appendMany(ns, ['{"b":1}', '{"b":2}', '{"b":3}']),
        engine.events.append(ns, '{"s":1}'),
        engine.events.appendMany(other, ['{"o":1}', '{"o":2}']),
        engine.events.appendMany(ns, ['{"b":4}', '{"b":5}']),
        // An event with a raw newline (not JSON.stringify output, but allowed) stays intact.
        engine.events.appendMany(ns, ['{"m":\n1}', '{"m":2}']),
      ]);
      const appended = results.flat();
      await waitForCount(received, appended.length);
      // A moment for duplicates to show up, bounded by one more append's delivery.
      const marker = await engine.events.append(ns, '{"marker":1}');
      await vi.waitFor(() => expect(received.some((e) => e.offset === marker.offset && e.namespace === ns)).toBe(true));
      const mine = received.filter((e) => e.namespace === ns);
      expect(mine.map((e) => e.offset)).toEqual(Array.from({ length: 9 }, (_, i) => i + 1));
      expect(received.filter((e) => e.namespace === other).map((e) => e.offset)).toEqual([1, 2]);
      const byKey = (e: AppendedEvent) => `${e.namespace}/${e.offset}`;
      expect(
        received
          .filter((e) => e.offset !== marker.offset || e.namespace !== ns)
          .sort((x, y) => byKey(x).localeCompare(byKey(y))),
      ).toEqual([...appended].sort((x, y) => byKey(x).localeCompare(byKey(y))));
      // Stored in the same order; a resume after any offset reads the rest.
      const stored = await engine.events.read(ns, 4);
      expect(stored.events).toEqual(mine.filter((e) => e.offset > 4).map(({ offset, json }) => ({ offset, json })));
      await unsubscribe();
    });
  });

  describe('event fan-out', () => {
    it('delivers every appended event to subscribers in offset order per namespace', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const other = uniqueNamespace();
      const { received, unsubscribe } = await recordEvents(engine, [ns, other]);
      const appended = await Promise.all([
        ...Array.from({ length: 20 }, (_, i) => engine.events.append(ns, JSON.stringify({ i }))),
        engine.events.append(other, '{"other":1}'),
      ]);
      await waitForCount(received, 21);
      const mine = received.filter((e) => e.namespace === ns);
      expect(mine.map((e) => e.offset)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect([...received].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.offset - b.offset)).toEqual(
        [...appended].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.offset - b.offset),
      );
      await unsubscribe();
    });

    it('stops delivering after unsubscribe', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const leaving = await recordEvents(engine, [ns]);
      const staying = await recordEvents(engine, [ns]);
      await engine.events.append(ns, '{"n":1}');
      await waitForCount(leaving.received, 1);
      await waitForCount(staying.received, 1);
      await leaving.unsubscribe();
      await engine.events.append(ns, '{"n":2}');
      await waitForCount(staying.received, 2);
      expect(leaving.received.map((e) => e.offset)).toEqual([1]);
      expect(staying.received.map((e) => e.offset)).toEqual([1, 2]);
      await staying.unsubscribe();
    });

    it('survives listeners that throw or reject', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      // Plain functions, not vi.fn: a spy observes the returned promise and so would handle the
      // rejection itself, hiding an engine that leaves it unhandled.
      const calls = { throwing: 0, rejecting: 0 };
      // Count only this test's namespace: on Redis Cluster a previous test's event may still be
      // in flight to a freshly subscribed connection.
      const throwing = (event: AppendedEvent) => {
        if (event.namespace === ns) calls.throwing += 1;
        throw new Error('listener bug');
      };
      const rejecting = async (event: AppendedEvent) => {
        if (event.namespace === ns) calls.rejecting += 1;
        throw new Error('async listener bug');
      };
      const unsubscribeThrowing = await engine.events.subscribe(throwing);
      const unsubscribeRejecting = await engine.events.subscribe(rejecting);
      const healthy = await recordEvents(engine, [ns]);
      expect((await engine.events.append(ns, '{"n":1}')).offset).toBe(1);
      expect((await engine.events.append(ns, '{"n":2}')).offset).toBe(2);
      await waitForCount(healthy.received, 2);
      expect(healthy.received.map((e) => e.offset)).toEqual([1, 2]);
      expect(calls).toEqual({ throwing: 2, rejecting: 2 });
      await Promise.all([unsubscribeThrowing(), unsubscribeRejecting(), healthy.unsubscribe()]);
    });

    it('stops delivering to listeners of a closed engine', async () => {
      const engine = harness.engine();
      const closing = await harness.engineWith({});
      const ns = uniqueNamespace();
      const fromClosed = await recordEvents(closing, [ns]);
      const fromOpen = await recordEvents(engine, [ns]);
      await closing.close();
      await engine.events.append(ns, '{"after":"close"}');
      await waitForCount(fromOpen.received, 1);
      expect(fromClosed.received).toEqual([]);
      await fromOpen.unsubscribe();
    });
  });

  describe('message append with its event', () => {
    const parts = (sessionId: string, marker: string) => ({
      before: `{"m":"${marker}","s":"${sessionId}","seq":`,
      after: '}',
    });

    it('appends the event of an inserted row in the same step, with the seq filled in', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const feed = await recordEvents(engine, [ns]);
      await engine.events.append(ns, '{"first":true}');
      await appendInserted(engine, ns, session.id, messageInput({ createdAt: T0 }));
      const result = await engine.messages.append(ns, session.id, {
        ...messageInput({ createdAt: T0 + 1 }),
        event: parts(session.id, 'x'),
      });
      if (!result.ok) throw new Error('append failed');
      expect(result.message.seq).toBe(2);
      const json = `{"m":"x","s":"${session.id}","seq":2}`;
      const { epoch } = await engine.events.read(ns, 0);
      expect(result.event).toEqual({ namespace: ns, epoch, offset: 2, json });
      expect((await engine.events.read(ns, 0)).events).toEqual([
        { offset: 1, json: '{"first":true}' },
        { offset: 2, json },
      ]);
      await engine.events.append(ns, '{"last":true}');
      await waitForCount(feed.received, 3);
      expect(feed.received.map((e) => [e.offset, e.json])).toEqual([
        [1, '{"first":true}'],
        [2, json],
        [3, '{"last":true}'],
      ]);
      await feed.unsubscribe();
    });

    it('appends no event for a duplicate or an unknown session', async () => {
      const engine = harness.engine();
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      const input = {
        ...messageInput({ createdAt: T0, localId: 'l1', invokedAt: null }),
        event: parts(session.id, 'dup'),
      };
      const first = await engine.messages.append(ns, session.id, input);
      expect(first.ok && first.event?.offset).toBe(1);
      const again = await engine.messages.append(ns, session.id, { ...input, id: 'another-id' });
      expect(again).toMatchObject({ ok: true, inserted: false });
      expect(again.ok && again.event).toBeUndefined();
      const missing = await engine.messages.append(ns, 'no-such-session', {
        ...messageInput({ createdAt: T0 }),
        event: parts('x', 'missing'),
      });
      expect(missing).toEqual({ ok: false, reason: 'session-not-found' });
      const { events, nextOffset } = await engine.events.read(ns, 0);
      expect(events.map((e) => e.offset)).toEqual([1]);
      expect(nextOffset).toBe(2);
    });

    it('trims the log to its limits when the message event is appended', async () => {
      const engine = await harness.engineWith({ eventLogMaxEvents: 2 });
      const ns = uniqueNamespace();
      const session = await createSession(engine, ns);
      for (let i = 0; i < 4; i += 1) {
        await engine.messages.append(ns, session.id, {
          ...messageInput({ createdAt: T0 + i }),
          event: parts(session.id, `t${i}`),
        });
      }
      const read = await engine.events.read(ns, 0);
      expect(read).toMatchObject({ oldestOffset: 3, nextOffset: 5 });
      expect(read.events.map((e) => JSON.parse(e.json).seq)).toEqual([3, 4]);
    });
  });
}
