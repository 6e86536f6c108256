// The cluster primary's connection hand-over (cluster/primary.ts, request-line.ts, worker.ts) on a
// real host: primary + 2 workers on Redis (test/helpers/cluster.ts; the host is reached directly,
// not through HAProxy). REST keeps its connections; a request body arriving in several TCP
// writes is read by the worker itself; Socket.IO long-polling (with or without the WebSocket
// upgrade) is routed by the slot its sid names; a long-polling request or a WebSocket upgrade for
// another worker's session on a kept-alive connection is redirected; slow and garbage first
// bytes; a restarted worker takes new connections.
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect as tcpConnect, type Socket as TcpSocket } from 'node:net';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_LINE_TIMEOUT_MS } from '../../src/cluster/request-line.js';
import { slotOfSessionId } from '../../src/cluster/session-id.js';
import { closeAll, connectCli, emitAck } from '../helpers/cli-client.js';
import { startCluster, waitFor, type HubHost, type TestCluster } from '../helpers/cluster.js';
import { sessionMetadata, uniqueNamespace } from '../helpers/fixtures.js';

let c: TestCluster;
let host: HubHost;
let port: number;
const sockets: Socket[] = [];

beforeAll(async () => {
  // deploy/haproxy.cfg needs two hosts; the tests use the first one directly.
  c = await startCluster({ hosts: 2, workersPerHost: 2 });
  host = c.hosts[0] as HubHost;
  port = host.port;
}, 180_000);

afterAll(async () => {
  await c?.stop();
}, 60_000);

afterEach(() => closeAll(...sockets.splice(0)));

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The TCP connection the answer came on. */
  socket: TcpSocket;
}

function send(
  agent: Agent,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, agent, headers: options.headers ?? {}, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            socket: req.socket as TcpSocket,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** What a browser does with a 307: the same method and body again, at the Location. */
async function sendFollowing(
  agent: Agent,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<{ reply: Reply; redirects: Reply[] }> {
  const redirects: Reply[] = [];
  let reply = await send(agent, method, path, options);
  while (reply.status === 307 && redirects.length < 3) {
    redirects.push(reply);
    reply = await send(agent, method, reply.headers.location ?? '', options);
  }
  return { reply, redirects };
}

/** One raw TCP connection: writes what it is told, collects what the server sends back. */
function rawConnection(): Promise<{ socket: TcpSocket; received(): string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port, noDelay: true });
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('error', reject);
    socket.once('connect', () => resolve({ socket, received: () => text, closed }));
  });
}

function write(socket: TcpSocket, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, (error) => (error ? reject(error) : resolve())));
}

/** One HTTP/1.1 response with a Content-Length body, parsed from raw bytes once complete. */
function parseResponse(text: string): { status: number; headers: Record<string, string>; body: string } | null {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? '0');
  const body = Buffer.from(text.slice(end + 4), 'latin1');
  if (body.length < length) return null;
  return { status: Number(statusLine?.split(' ')[1]), headers, body: body.subarray(0, length).toString('utf8') };
}

async function rawResponse(
  received: () => string,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  let parsed = parseResponse(received());
  await waitFor('a complete HTTP response', 15_000, () => {
    parsed = parseResponse(received());
    return parsed !== null;
  });
  if (!parsed) throw new Error('unreachable');
  return parsed;
}

/** A new engine.io long-polling session on its own connection; its sid names the worker's slot. */
async function pollingHandshake(): Promise<string> {
  const agent = new Agent({ keepAlive: false });
  const reply = await send(agent, 'GET', '/socket.io/?EIO=4&transport=polling');
  expect(reply.status).toBe(200);
  expect(reply.headers.connection).toBe('close');
  const open = /^0(\{.*\})$/.exec(reply.body);
  const sid = (JSON.parse(open?.[1] ?? '{}') as { sid?: string }).sid;
  if (typeof sid !== 'string') throw new Error(`no sid in ${reply.body}`);
  return sid;
}

describe('connection hand-over on a 2-worker host', () => {
  it('(a) one kept-alive connection serves many REST requests; the server never closes it', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const used = new Set<TcpSocket>();
    let closedByServer = 0;
    for (let i = 0; i < 50; i++) {
      const reply = await send(agent, 'GET', i % 2 === 0 ? '/health' : '/ready');
      expect(reply.status).toBe(200);
      expect(reply.headers.connection).toBe('keep-alive');
      if (!used.has(reply.socket)) reply.socket.once('close', () => closedByServer++);
      used.add(reply.socket);
    }
    expect(used.size).toBe(1);
    expect(closedByServer).toBe(0);
    agent.destroy();
  }, 60_000);

  it('(b) POST bodies arriving in several TCP writes reach the worker whole (in the first write or after it)', async () => {
    const token = `${c.token}:${uniqueNamespace('handover')}`;
    const blob = 'x'.repeat(200 * 1024);
    for (const split of ['after-headers', 'inside-body'] as const) {
      const body = Buffer.from(JSON.stringify({ tag: `tag-${split}`, metadata: sessionMetadata({ split, blob }) }));
      const head = Buffer.from(
        `POST /cli/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      const conn = await rawConnection();
      // First write: the head alone, or the head and the first 1000 body bytes; then the rest in
      // 64 KiB writes, each after the previous one was handed to the kernel.
      const firstBody = split === 'after-headers' ? 0 : 1000;
      await write(conn.socket, Buffer.concat([head, body.subarray(0, firstBody)]));
      for (let at = firstBody; at < body.length; at += 64 * 1024)
        await write(conn.socket, body.subarray(at, Math.min(body.length, at + 64 * 1024)));
      const response = await rawResponse(conn.received);
      expect(response.status).toBe(200);
      expect(response.headers.connection).toBe('keep-alive');
      const { session } = JSON.parse(response.body) as { session: { metadata: { split: string; blob: string } } };
      expect(session.metadata.split).toBe(split);
      expect(session.metadata.blob).toBe(blob);
      conn.socket.destroy();
    }
  }, 60_000);

  it('(c) Socket.IO clients on long-polling, and on polling upgraded to WebSocket, connect and get acks', async () => {
    const slotsSeen = new Set<number | null>();
    for (const transports of [['polling'], ['polling', 'websocket']] as const) {
      const clients = await Promise.all(
        Array.from({ length: 20 }, () =>
          connectCli(host.url, { token: c.token }, { transports: [...transports], timeoutMs: 15_000 }),
        ),
      );
      sockets.push(...clients);
      if (transports.length === 2)
        await waitFor('every client to upgrade to WebSocket', 15_000, () =>
          clients.every((client) => client.io.engine.transport.name === 'websocket'),
        );
      // Several acks each: every polling request of a session must reach the worker that holds it.
      for (let round = 0; round < 3; round++) {
        const acks = await Promise.all(clients.map((client) => emitAck<unknown>(client, 'ping')));
        expect(acks).toHaveLength(20);
      }
      for (const client of clients) {
        expect(client.connected).toBe(true);
        slotsSeen.add(slotOfSessionId(client.io.engine.id ?? ''));
      }
      closeAll(...sockets.splice(0));
    }
    // Sessions were spread over both workers, and every sid names its worker's slot.
    expect([...slotsSeen].sort()).toEqual([0, 1]);
  }, 120_000);

  it('(d) a long-polling request for another worker’s session on a kept-alive connection is redirected and followed', async () => {
    // One session on each worker (handshakes go by least connections).
    const sids = new Map<number, string>();
    await waitFor('sessions on both workers', 15_000, async () => {
      const sid = await pollingHandshake();
      const slot = slotOfSessionId(sid);
      if (slot !== null && !sids.has(slot)) sids.set(slot, sid);
      return sids.size === 2;
    });
    let redirected = 0;
    let direct = 0;
    // Which worker a REST connection lands on is the primary's choice; try until both cases ran.
    for (let attempt = 0; attempt < 40 && (redirected === 0 || direct === 0); attempt++) {
      const slot = attempt % 3 === 0 ? 0 : 1;
      const sid = sids.get(slot) as string;
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const rest = await send(agent, 'GET', '/health');
      expect(rest.headers.connection).toBe('keep-alive');
      // A Socket.IO CONNECT to /cli, sent as a long-polling POST on the same connection.
      const path = `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
      const packet = `40/cli,${JSON.stringify({ token: c.token })}`;
      const { reply, redirects } = await sendFollowing(agent, 'POST', path, {
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
        body: packet,
      });
      expect(reply.status).toBe(200);
      expect(reply.body).toBe('ok');
      expect(reply.headers.connection).toBe('close');
      if (redirects.length > 0) {
        redirected++;
        expect(redirects).toHaveLength(1);
        expect(redirects[0]?.socket).toBe(rest.socket);
        expect(redirects[0]?.headers.location).toBe(path);
        expect(redirects[0]?.headers.connection).toBe('close');
        expect(reply.socket).not.toBe(rest.socket);
      } else {
        direct++;
        expect(reply.socket).toBe(rest.socket);
      }
      // The packet reached the session's worker: its next poll carries the /cli CONNECT answer.
      const poll = await send(new Agent({ keepAlive: false }), 'GET', path);
      expect(poll.status).toBe(200);
      expect(poll.body).toMatch(/^40\/cli,\{"sid":"[^"]+"\}/);
      // Close the engine.io session's /cli namespace again so the next attempt can CONNECT anew.
      const disconnect = await send(new Agent({ keepAlive: false }), 'POST', path, { body: '41/cli,' });
      expect(disconnect.status).toBe(200);
      agent.destroy();
    }
    expect(redirected).toBeGreaterThan(0);
    expect(direct).toBeGreaterThan(0);
  }, 120_000);

  it('(d2) a WebSocket upgrade for another worker’s session on a kept-alive connection is answered 307 and closed', async () => {
    let redirected = 0;
    let upgraded = 0;
    // As in (d): the REST request decides the worker; try until both cases ran.
    for (let attempt = 0; attempt < 40 && (redirected === 0 || upgraded === 0); attempt++) {
      const sid = await pollingHandshake();
      const connection = await rawConnection();
      await write(connection.socket, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
      expect((await rawResponse(connection.received)).status).toBe(200);
      const answered = connection.received().length;
      const path = `/socket.io/?EIO=4&transport=websocket&sid=${encodeURIComponent(sid)}`;
      await write(
        connection.socket,
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
      const upgradeAnswer = () => connection.received().slice(answered);
      await waitFor('an answer to the upgrade', 15_000, () => upgradeAnswer().includes('\r\n\r\n'));
      const status = Number(upgradeAnswer().split(' ')[1]);
      if (status === 307) {
        redirected++;
        const reply = await rawResponse(upgradeAnswer);
        expect(reply.headers.location).toBe(path);
        expect(reply.headers.connection).toBe('close');
        await connection.closed; // the client repeats it on a new connection, which the primary routes by sid
      } else {
        upgraded++;
        expect(upgradeAnswer()).toMatch(/^HTTP\/1\.1 101 /);
        connection.socket.destroy();
      }
    }
    expect(redirected).toBeGreaterThan(0);
    expect(upgraded).toBeGreaterThan(0);
  }, 120_000);

  it('(e) a request line sent byte by byte is served; garbage, and a line without end, are answered 400 and closed', async () => {
    const slow = await rawConnection();
    const request = 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    for (const byte of request) {
      await write(slow.socket, byte);
      // Pacing, not synchronisation: each byte leaves as its own TCP segment.
      await new Promise((paced) => setTimeout(paced, 2));
    }
    const response = await rawResponse(slow.received);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ status: 'ok' });
    slow.socket.destroy();

    const garbage = [
      Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]), // a TLS ClientHello
      Buffer.from('hello world\r\n\r\n'),
      Buffer.from(`GET /${'a'.repeat(17 * 1024)}`), // no end of line within 16 KiB
    ];
    for (const bytes of garbage) {
      const conn = await rawConnection();
      await write(conn.socket, bytes);
      await conn.closed;
      expect(conn.received()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    }
  }, 60_000);

  it('a connection whose request line does not end in time is closed without an answer', async () => {
    const conn = await rawConnection();
    const startedAt = Date.now();
    await write(conn.socket, 'GET /health HT');
    await conn.closed;
    expect(conn.received()).toBe('');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(REQUEST_LINE_TIMEOUT_MS - 100);
  }, 60_000);

  it('a restarted worker takes the next connections', async () => {
    // Long-lived connections on both workers first.
    const before = await Promise.all(Array.from({ length: 6 }, () => connectCli(host.url, { token: c.token })));
    sockets.push(...before);
    const startedLines = () =>
      host
        .output()
        .split('\n')
        .filter((line) => line.includes('"worker started"'));
    const slotOneStarts = () => startedLines().filter((line) => line.includes('"slot":1'));
    const lastStart = slotOneStarts().at(-1) ?? '';
    const { workerPid } = JSON.parse(lastStart) as { workerPid: number };
    const readyBefore = host.output().split('"worker ready"').length;
    process.kill(workerPid, 'SIGKILL');
    await waitFor('slot 1 to restart and be ready', 60_000, () => {
      const restarted = slotOneStarts().length > 1 + slotOneStarts().indexOf(lastStart);
      return restarted && host.output().split('"worker ready"').length > readyBefore;
    });
    const after = await Promise.all(Array.from({ length: 2 }, () => connectCli(host.url, { token: c.token })));
    sockets.push(...after);
    // The survivor holds its share of the earlier sockets (and those of slot 1 reconnect nowhere:
    // reconnection is off); the restarted worker has none, so both new sockets go to it.
    expect(after.map((client) => slotOfSessionId(client.io.engine.id ?? ''))).toEqual([1, 1]);
  }, 120_000);
});
