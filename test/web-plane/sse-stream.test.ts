// GET /api/events: handshake, framing, ids, headers, auth, heartbeat, gzip, shutdown — against a
// real hub over real HTTP, parsing the raw stream.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openSse, splitEventId, within, type SseClient } from '../helpers/sse-client.js';
import {
  createMachine,
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

const NS = 'stream-ns';

describe('SSE stream', () => {
  let t: TestHub;
  let jwt: string;
  const open: SseClient[] = [];
  const track = (client: SseClient): SseClient => {
    open.push(client);
    return client;
  };

  beforeAll(async () => {
    t = await startTestHub();
    jwt = await jwtFor(t, NS);
  });
  afterEach(() => {
    for (const client of open.splice(0)) client.close();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers with the SSE headers and opens with connection-changed (no id, uuid subscriptionId)', async () => {
    const sse = track(await openSse(t.url, { token: jwt, query: { all: 'true' } }));
    expect(sse.status).toBe(200);
    expect(sse.headers['content-type']).toBe('text/event-stream');
    expect(sse.headers['cache-control']).toBe('no-cache');
    expect(sse.headers.connection).toBe('keep-alive');
    expect(sse.headers['x-accel-buffering']).toBe('no');
    expect(sse.headers['content-encoding']).toBeUndefined();
    const first = await sse.next();
    expect(first.id).toBeUndefined();
    expect(first.event).toEqual({
      type: 'connection-changed',
      data: { status: 'connected', subscriptionId: expect.stringMatching(/^[0-9a-f-]{36}$/), resume: 'gap' },
    });
    expect(first.raw).toBe(`data: ${first.data}`);
  });

  it('delivers live events as `data:` then `id: <epoch>:<offset>:<tag>` frames, in log order', async () => {
    const sse = track(await openSse(t.url, { token: jwt, query: { all: 'true' } }));
    await sse.next((f) => f.event.type === 'connection-changed');
    const sessionId = await createSession(t, NS); // session-added through the real service
    await publish(t, NS, marker(sessionId, 1));
    await publish(t, NS, marker(sessionId, 2));
    const [added, one, two] = await sse.collect(3);
    const head = await logHead(t, NS);
    expect(added?.event).toMatchObject({ type: 'session-added', sessionId, namespace: NS, data: { id: sessionId } });
    expect(one?.event).toMatchObject({ type: 'session-updated', sessionId, namespace: NS, data: { n: 1 } });
    expect(two?.event).toMatchObject({ data: { n: 2 } });
    expect(added?.id).toBe(eventId(head.epoch, head.nextOffset - 3, NS));
    expect(one?.id).toBe(eventId(head.epoch, head.nextOffset - 2, NS));
    expect(two?.id).toBe(eventId(head.epoch, head.nextOffset - 1, NS));
    // The frame is exactly the data line then the id line.
    expect(two?.raw).toBe(`data: ${two?.data}\nid: ${two?.id}`);
    expect(splitEventId(two?.id).tag).toBe(expectedTag(head.epoch, NS));
  });

  it('accepts the JWT in ?token= on /api/events', async () => {
    const sse = track(await openSse(t.url, { token: jwt, tokenInQuery: true, query: { all: '1' } }));
    expect(sse.status).toBe(200);
    expect((await sse.next()).event.type).toBe('connection-changed');
    await publish(t, NS, marker('s-query', 1));
    expect((await sse.next((f) => f.event.type === 'session-updated')).event).toMatchObject({ sessionId: 's-query' });
  });

  it('answers 401 without a token and with a bad one', async () => {
    const none = await openSse(t.url, { query: { all: 'true' } });
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: 'Missing authorization token' });
    const bad = await openSse(t.url, { token: 'not-a-jwt', query: { all: 'true' } });
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual({ error: 'Invalid token' });
  });

  it('checks sessionId and machineId up front: 404 unknown, 403 another namespace', async () => {
    const foreignSession = await createSession(t, 'stream-other');
    const foreignMachine = await createMachine(t, 'stream-other');
    const cases: [Record<string, string>, number, string][] = [
      [{ sessionId: 'no-such-session' }, 404, 'Session not found'],
      [{ sessionId: foreignSession }, 404, 'Session not found'],
      [{ machineId: 'no-such-machine' }, 404, 'Machine not found'],
      [{ machineId: foreignMachine }, 404, 'Machine not found'],
    ];
    for (const [query, status, error] of cases) {
      const answer = await openSse(t.url, { token: jwt, query });
      expect({ query, status: answer.status, body: answer.body }).toEqual({ query, status, body: { error } });
    }
  });

  it('streams gzip when asked, and the decoded frames are the same as the plain ones', async () => {
    const plain = track(await openSse(t.url, { token: jwt, query: { all: 'true' } }));
    const zipped = track(await openSse(t.url, { token: jwt, query: { all: 'true' }, gzip: true }));
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toMatch(/accept-encoding/i);
    expect(plain.headers['content-encoding']).toBeUndefined();
    await plain.next();
    await zipped.next(); // connection-changed (differs: subscription ids)
    for (let n = 0; n < 5; n += 1) await publish(t, NS, marker('s-gzip', n, 200));
    // Each frame arrives as soon as it is written: the gzip stream is flushed per frame.
    const fromPlain = await plain.collect(5);
    const fromZipped = await zipped.collect(5);
    expect(fromZipped.map((f) => f.raw)).toEqual(fromPlain.map((f) => f.raw));
  });

  it('reads Accept-Encoding with q-values: explicit gzip beats *, q=0 refuses', async () => {
    const cases: [string, boolean][] = [
      ['gzip', true],
      ['deflate, gzip;q=0.5', true],
      ['*', true],
      ['gzip;q=0', false],
      ['gzip;q=0, *', false],
      ['*;q=0, gzip;q=0.1', true],
      ['identity', false],
      ['br, deflate', false],
    ];
    for (const [acceptEncoding, gzip] of cases) {
      const sse = track(
        await openSse(t.url, { token: jwt, query: { all: 'true' }, headers: { 'accept-encoding': acceptEncoding } }),
      );
      expect({ acceptEncoding, gzip: sse.headers['content-encoding'] === 'gzip' }).toEqual({ acceptEncoding, gzip });
      expect((await sse.next()).event.type).toBe('connection-changed');
      sse.close();
    }
  });

  it('counts subscribers and resume verdicts in the metrics', async () => {
    // Streams of earlier tests were closed client-side; wait until the hub has noticed.
    await waitForGauge(t, 0);
    const before = 0;
    const sse = track(await openSse(t.url, { token: jwt, query: { all: 'true' } }));
    await sse.next();
    expect((await t.hub.metrics.sseSubscribers.get()).values[0]?.value).toBe(before + 1);
    const gaps = (await t.hub.metrics.sseResume.get()).values.find((v) => v.labels.verdict === 'gap')?.value ?? 0;
    expect(gaps).toBeGreaterThan(0);
    sse.close();
    await waitForGauge(t, before);
  });
});

describe('SSE heartbeat', () => {
  let t: TestHub;
  let jwt: string;

  beforeAll(async () => {
    t = await startTestHub({ sseHeartbeatMs: 40 });
    jwt = await jwtFor(t, 'beat-ns');
  });
  afterAll(async () => {
    await t.close();
  });

  it('sends heartbeat frames without id to every connection, even one with no filter', async () => {
    const filtered = await openSse(t.url, { token: jwt, query: { all: 'true' } });
    const bare = await openSse(t.url, { token: jwt });
    try {
      await filtered.next();
      await bare.next();
      const beat = await filtered.next((f) => f.event.type === 'heartbeat', 2_000);
      expect(beat.id).toBeUndefined();
      expect(beat.raw).toBe(`data: ${beat.data}`);
      expect(beat.event).toEqual({ type: 'heartbeat', namespace: 'beat-ns', data: { timestamp: expect.any(Number) } });
      // A connection with neither all, sessionId nor machineId gets heartbeats only.
      await publish(t, 'beat-ns', marker('s1', 1));
      await filtered.next((f) => f.event.type === 'session-updated');
      // Wait for a heartbeat that started after the publish: by then the event would have come.
      await filtered.next((f) => f.event.type === 'heartbeat', 2_000);
      await bare.next((f) => f.event.type === 'heartbeat', 2_000);
      await bare.next((f) => f.event.type === 'heartbeat', 2_000);
      expect(bare.frames.map((f) => f.event.type).filter((type) => type !== 'heartbeat')).toEqual([
        'connection-changed',
      ]);
    } finally {
      filtered.close();
      bare.close();
    }
  });
});

describe('SSE shutdown', () => {
  it('ends every stream (plain and gzip) when the hub closes', async () => {
    const t = await startTestHub();
    const jwt = await jwtFor(t, 'close-ns');
    const a = await openSse(t.url, { token: jwt, query: { all: 'true' } });
    const b = await openSse(t.url, { token: jwt, query: { all: 'true' }, gzip: true });
    await a.next();
    await b.next();
    await t.close();
    await expectEnded(a);
    await expectEnded(b);
  });
});

async function expectEnded(client: SseClient): Promise<void> {
  await within(client.ended, 3_000, 'the stream to end');
  expect(client.isEnded).toBe(true);
}

async function waitForGauge(t: TestHub, value: number): Promise<void> {
  // The server notices the client leaving when its socket closes; give it a bounded moment.
  const deadline = Date.now() + 3_000;
  for (;;) {
    const current = (await t.hub.metrics.sseSubscribers.get()).values[0]?.value;
    if (current === value) return;
    if (Date.now() > deadline) throw new Error(`sse subscribers gauge stayed at ${current}, expected ${value}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
