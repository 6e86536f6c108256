// SseConnection's write pacing, over a real HTTP response read by a real client: a frame that
// finds the stream quiet is written on the next turn, and frames that arrive within the minimum
// interval after a write share the next write (one syscall instead of one per frame).
import { once } from 'node:events';
import { createServer, get, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SseConnection } from '../../src/web-plane/sse/connection.js';
import { loggedFrame } from '../../src/web-plane/sse/frames.js';

/** Long enough that a few event-loop turns always fall inside it. */
const INTERVAL_MS = 300;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Stream {
  connection: SseConnection;
  /** Every chunk the server handed to the response, in order. */
  writes: string[];
  /** What the client has received so far. */
  received(): string;
  /** Resolves once the client has received text containing `needle`. */
  receivedText(needle: string): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function openStream(): Promise<Stream> {
  let opened: ((value: { connection: SseConnection; writes: string[] }) => void) | undefined;
  const ready = new Promise<{ connection: SseConnection; writes: string[] }>((resolve) => {
    opened = resolve;
  });
  const server = createServer((_req: IncomingMessage, res: ServerResponse) => {
    const writes: string[] = [];
    const write = res.write.bind(res) as (chunk: Buffer) => boolean;
    // Observes the connection's writes; the response still sends them.
    res.write = ((chunk: Buffer) => {
      writes.push(chunk.toString('utf8'));
      return write(chunk);
    }) as typeof res.write;
    const connection = new SseConnection(res, {
      subscriptionId: 'pacing',
      filter: { namespace: 'pacing-ns', all: true, sessionId: undefined, machineId: undefined },
      gzip: false,
      maxBufferedBytes: 1 << 20,
      minFlushIntervalMs: INTERVAL_MS,
      onFrame: () => undefined,
      onClosed: () => undefined,
    });
    connection.open();
    void connection.goLive('epoch', 0).then(() => opened?.({ connection, writes }));
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  let text = '';
  const waiters: { needle: string; resolve: () => void }[] = [];
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/' }, resolve).on('error', reject);
  });
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    text += chunk;
    for (const waiter of waiters.splice(0)) {
      if (text.includes(waiter.needle)) waiter.resolve();
      else waiters.push(waiter);
    }
  });
  const { connection, writes } = await ready;
  return {
    connection,
    writes,
    received: () => text,
    receivedText: (needle) =>
      text.includes(needle) ? Promise.resolve() : new Promise((resolve) => waiters.push({ needle, resolve })),
  };
}

const frame = (offset: number) => loggedFrame('test', `{"n":${offset}}`, `epoch:${offset}:t`);

describe('SSE write pacing', () => {
  it('writes a frame that finds the stream quiet on the next turn', async () => {
    const stream = await openStream();
    stream.connection.deliverLive('epoch', 1, frame(1));
    expect(stream.writes).toEqual([]);
    await nextTurn();
    expect(stream.writes).toEqual([frame(1).data.toString('utf8')]);
    await stream.receivedText('"n":1');
  });

  it('puts the frames of the next interval, over several turns, in one write, in order', async () => {
    const stream = await openStream();
    stream.connection.deliverLive('epoch', 1, frame(1));
    await nextTurn();
    expect(stream.writes).toHaveLength(1);
    // Three frames in three turns right after that write: none is written before the interval ends.
    for (const offset of [2, 3, 4]) {
      stream.connection.deliverLive('epoch', offset, frame(offset));
      await nextTurn();
    }
    expect(stream.writes).toHaveLength(1);
    await stream.receivedText('"n":4');
    expect(stream.writes).toEqual([
      frame(1).data.toString('utf8'),
      [2, 3, 4].map((offset) => frame(offset).data.toString('utf8')).join(''),
    ]);
    expect(stream.received()).toBe(stream.writes.join(''));
  });
});
