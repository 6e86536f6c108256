// Slow SSE consumers are bounded: a client that stops reading is closed once the frames the
// socket has not accepted exceed HAPI_SSE_MAX_BUFFERED_BYTES; other subscribers are unaffected,
// and the dropped client resumes from its last complete frame with `ok`.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSse, splitEventId, within, type SseFrame } from '../helpers/sse-client.js';
import { jwtFor, marker, publish, startTestHub, type TestHub } from '../helpers/sse-fixtures.js';

const NS = 'slow-ns';
const EVENT_PADDING = 16 * 1024;
const MAX_EVENTS = 3_000; // ~48 MiB: far beyond what loopback socket buffers can absorb

function markerOf(frame: SseFrame): number | undefined {
  const data = frame.event.data;
  return typeof data === 'object' && data !== null && 'n' in data && typeof data.n === 'number' ? data.n : undefined;
}

/** A raw HTTP/1.1 client: reads until the handshake frame arrived, then stops reading. */
async function openStalledStream(
  port: number,
  jwt: string,
): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(
    `GET /api/events?all=true HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${jwt}\r\nAccept: text/event-stream\r\n\r\n`,
  );
  const deadline = Date.now() + 5_000;
  while (!Buffer.concat(chunks).toString('utf8').includes('connection-changed')) {
    if (Date.now() > deadline)
      throw new Error(`no handshake on the raw stream: ${Buffer.concat(chunks).toString('utf8')}`);
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  }
  expect(Buffer.concat(chunks).toString('utf8')).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  socket.pause(); // from now on the kernel buffers fill up and the hub sees no progress
  return { socket, received: () => Buffer.concat(chunks).toString('utf8'), closed };
}

async function droppedCount(t: TestHub): Promise<number> {
  return (await t.hub.metrics.sseDropped.get()).values[0]?.value ?? 0;
}

describe('SSE slow consumers', () => {
  let t: TestHub;
  let jwt: string;

  beforeAll(async () => {
    t = await startTestHub({
      sseMaxBufferedBytes: 64 * 1024,
      eventLogMaxEvents: 10_000,
      eventLogMaxBytes: 256 * 1024 * 1024,
    });
    jwt = await jwtFor(t, NS);
  });
  afterAll(async () => {
    await t.close();
  });

  it('closes a client that stops reading once its queue exceeds the bound, while others keep receiving', async () => {
    const normal = await openSse(t.url, { token: jwt, query: { all: 'true' }, timeoutMs: 10_000 });
    await normal.next();
    const stalled = await openStalledStream(t.port, jwt);
    const droppedBefore = await droppedCount(t);

    // Publish one big event at a time and wait until the reading client has it: the hub is never
    // flooded faster than a healthy client reads, so only the stalled one can fall behind.
    let published = 0;
    while ((await droppedCount(t)) === droppedBefore) {
      if (published >= MAX_EVENTS)
        throw new Error(`stalled client still open after ${published} events of ${EVENT_PADDING} bytes`);
      await publish(t, NS, marker('s', published, EVENT_PADDING));
      const frame = await normal.next((f) => markerOf(f) !== undefined);
      expect(markerOf(frame)).toBe(published);
      published += 1;
    }
    expect(await droppedCount(t)).toBe(droppedBefore + 1);

    // The healthy subscriber carries on.
    await publish(t, NS, marker('s', published, EVENT_PADDING));
    expect(markerOf(await normal.next((f) => markerOf(f) !== undefined))).toBe(published);
    const last = published;

    // The stalled socket was closed by the hub: reading again drains what the kernel held, then
    // the connection ends.
    stalled.socket.resume();
    await within(stalled.closed, 5_000, 'the hub to close the stalled socket');

    // It resumes from the last complete frame it got, with `ok` and exactly the rest.
    const ids = [...stalled.received().matchAll(/\nid: (\S+)\n\n/g)].map((match) => match[1]);
    const cursor = ids.at(-1);
    expect(cursor).toBeDefined();
    const resumed = await openSse(t.url, {
      token: jwt,
      query: { all: 'true', lastEventId: cursor ?? '' },
      timeoutMs: 10_000,
    });
    const hello = await resumed.next();
    expect(hello.event.data).toMatchObject({ resume: 'ok' });
    const rest: SseFrame[] = [];
    for (;;) {
      const frame = await resumed.next((f) => markerOf(f) !== undefined);
      rest.push(frame);
      if (markerOf(frame) === last) break;
    }
    const offsets = rest.map((f) => splitEventId(f.id).offset);
    const start = splitEventId(cursor).offset + 1;
    expect(offsets).toEqual(offsets.map((_, i) => start + i));
    resumed.close();
    normal.close();
  });
});
