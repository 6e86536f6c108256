// Simulated web clients: `POST /api/auth` for a JWT, then `GET /api/events` SSE streams (`all`
// or one session). Each stream parses frames itself (node:http, no EventSource), picks the
// loadtest markers out of `message-received` events and reports each delivery once per stream.
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as requestTls } from 'node:https';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { SimContext } from './context.js';
import { failureKind, requestJson } from './http.js';

const AuthReplySchema = z.object({ token: z.string().min(1) });

/** POST /api/auth {accessToken} → JWT, or null (error counted). */
export async function loginWeb(ctx: SimContext): Promise<string | null> {
  const outcome = await requestJson('POST', `${ctx.url}/api/auth`, {
    body: { accessToken: ctx.token },
    timeoutMs: ctx.options.connectTimeoutMs,
  });
  const parsed = outcome.status === 200 ? AuthReplySchema.safeParse(outcome.body) : null;
  if (!parsed?.success) {
    ctx.stats.error(failureKind('web-auth', outcome));
    return null;
  }
  return parsed.data.token;
}

/** A growable bitset of message ids already seen on one stream (duplicates are errors). */
class SeenSet {
  private bits = new Uint32Array(1 << 12);

  /** Marks `id`; true when it was already marked. */
  testAndSet(id: number): boolean {
    const word = id >>> 5;
    if (word >= this.bits.length) {
      let size = this.bits.length;
      while (size <= word) size *= 2;
      const next = new Uint32Array(size);
      next.set(this.bits);
      this.bits = next;
    }
    const mask = 1 << (id & 31);
    const had = ((this.bits[word] as number) & mask) !== 0;
    this.bits[word] = (this.bits[word] as number) | mask;
    return had;
  }
}

interface MarkerFields {
  lt: unknown;
  g: unknown;
  t: unknown;
}

/** `event.message.content.content.data` of a message-received event, read without zod (hot path). */
function markerOf(event: unknown): MarkerFields | null {
  const message = (event as { message?: { content?: unknown } }).message;
  const outer = message?.content as { content?: { data?: unknown } } | undefined;
  const data = outer?.content?.data;
  if (typeof data !== 'object' || data === null) return null;
  return data as MarkerFields;
}

export class SseSubscriber {
  deliveries = 0;
  private req: ClientRequest | null = null;
  private readonly seen = new SeenSet();
  private buffer = '';
  private closed = false;

  constructor(
    readonly index: number,
    private readonly ctx: SimContext,
    private readonly jwt: string,
    private readonly query: { all: true } | { sessionId: string },
  ) {}

  /** Opens the stream; resolves true once the hub's `connection-changed` frame arrived. */
  open(): Promise<boolean> {
    const url = new URL('/api/events', this.ctx.url);
    if ('all' in this.query) url.searchParams.set('all', 'true');
    else url.searchParams.set('sessionId', this.query.sessionId);
    url.searchParams.set('visibility', 'visible');
    const send = url.protocol === 'https:' ? requestTls : request;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (ok: boolean, errorKind?: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (errorKind) this.ctx.stats.error(errorKind);
        if (!ok) this.close();
        resolve(ok);
      };
      const timer = setTimeout(() => settle(false, 'sse-open-timeout'), this.ctx.options.connectTimeoutMs);
      const req = send(url, {
        method: 'GET',
        agent: false,
        headers: { accept: 'text/event-stream', authorization: `Bearer ${this.jwt}` },
      });
      this.req = req;
      req.on('error', () => {
        if (!settled) settle(false, 'sse-network');
        else if (!this.closed && !this.ctx.stopped()) this.ctx.stats.error('sse-network');
      });
      req.on('response', (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          res.resume();
          settle(false, `sse-http-${res.statusCode ?? 0}`);
          return;
        }
        this.ctx.stats.openStreams += 1;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => this.push(chunk, () => settle(true)));
        res.on('close', () => {
          this.ctx.stats.openStreams -= 1;
          if (!this.closed && !this.ctx.stopped()) this.ctx.stats.error('sse-ended');
          settle(false);
        });
      });
      req.end();
    });
  }

  private push(chunk: string, onHello: () => void): void {
    this.buffer += chunk;
    // One cut at the end instead of one per frame: a chunk can hold thousands of frames.
    let start = 0;
    for (let end = this.buffer.indexOf('\n\n'); end !== -1; end = this.buffer.indexOf('\n\n', start)) {
      this.frame(this.buffer.slice(start, end), onHello);
      start = end + 2;
    }
    if (start > 0) this.buffer = this.buffer.slice(start);
    // A frame never gets near this; a stream that does is broken, not slow.
    if (this.buffer.length > 64 * 1024 * 1024) {
      this.ctx.stats.error('sse-frame-too-large');
      this.close();
    }
  }

  private frame(block: string, onHello: () => void): void {
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('data:')) data += line.slice(line.charAt(5) === ' ' ? 6 : 5);
    }
    if (data === '') return;
    // Only two frame types matter; skip parsing the rest (session-updated, heartbeats, …).
    const isMessage = data.includes('"message-received"');
    if (!isMessage && !data.includes('"connection-changed"')) return;
    let event: unknown;
    try {
      event = JSON.parse(data);
    } catch {
      this.ctx.stats.error('sse-bad-json');
      return;
    }
    const type = (event as { type?: unknown }).type;
    if (type === 'connection-changed') {
      onHello();
      return;
    }
    if (type !== 'message-received') return;
    const marker = markerOf(event);
    if (!marker || marker.lt !== this.ctx.runId || typeof marker.g !== 'number' || typeof marker.t !== 'number') return;
    if (this.seen.testAndSet(marker.g)) {
      this.ctx.stats.error('sse-duplicate');
      return;
    }
    this.deliveries += 1;
    this.ctx.stats.delivered(marker.g, performance.now() - marker.t);
  }

  close(): void {
    this.closed = true;
    this.req?.destroy();
  }
}
