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
