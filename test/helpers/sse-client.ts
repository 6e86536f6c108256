// A small SSE client for tests that reads the raw HTTP stream itself (node:http), so the tests
// see exactly what the hub writes: status, headers, frame boundaries, `id:` lines, gzip.
//
//   const sse = await openSse(url, { token, query: { all: 'true' } });
//   const hello = await sse.next();                       // connection-changed
//   const frame = await sse.next((f) => f.event.type === 'session-updated');
//   sse.close();
//
// `next`/`collect` consume frames in arrival order and time out with a message listing what was
// received, so a test that waits for something that never comes fails clearly and quickly.
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';

export interface SseFrame {
  /** The `data:` payload (lines joined with \n). */
  data: string;
  /** The `id:` field, when the frame has one. */
  id: string | undefined;
  /** `data` parsed as JSON. */
  event: SseEvent;
  /** The frame exactly as received, including its field lines (without the blank line). */
  raw: string;
}

/** What the hub sends in `data:`; tests look at these fields and treat the rest as opaque. */
export interface SseEvent {
  type: string;
  namespace?: string;
  sessionId?: string;
  machineId?: string;
  data?: unknown;
  [key: string]: unknown;
}

export interface OpenSseOptions {
  /** JWT: sent as `Authorization: Bearer` unless `tokenInQuery`. */
  token?: string;
  tokenInQuery?: boolean;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Sends `Accept-Encoding: gzip` (the stream is then gunzipped before parsing). */
  gzip?: boolean;
  /** Default wait of next/collect. */
  timeoutMs?: number;
}

export interface SseClient {
  status: number;
  headers: IncomingHttpHeaders;
  /** JSON body of a non-200 answer. */
  body: unknown;
  /** Every frame received so far, consumed or not. */
  readonly frames: readonly SseFrame[];
  /** Resolves when the stream ends (server closed it, or close() was called). */
  readonly ended: Promise<void>;
  readonly isEnded: boolean;
  /** The next frame (matching `predicate`); frames before it are consumed and skipped. */
  next(predicate?: (frame: SseFrame) => boolean, timeoutMs?: number): Promise<SseFrame>;
  /** The next `n` frames matching `predicate` (non-matching ones are skipped). */
  collect(n: number, predicate?: (frame: SseFrame) => boolean, timeoutMs?: number): Promise<SseFrame[]>;
  /** Frames received but not consumed yet (does not consume them). */
  unread(): SseFrame[];
  close(): void;
}

const DEFAULT_TIMEOUT_MS = 5_000;

export function eventsUrl(baseUrl: string, query: Record<string, string> = {}): string {
  const url = new URL('/api/events', baseUrl);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  return url.toString();
}

/** Incremental SSE parser: feed it text in arbitrary pieces, it emits whole frames. */
export class SseParser {
  private buffer = '';

  constructor(private readonly onFrame: (frame: SseFrame) => void) {}

  push(text: string): void {
    this.buffer += text.replace(/\r\n?/g, '\n');
    for (let end = this.buffer.indexOf('\n\n'); end !== -1; end = this.buffer.indexOf('\n\n')) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.parseBlock(block);
    }
  }

  /** Text received after the last complete frame (a frame cut by the end of the stream). */
  get remainder(): string {
    return this.buffer;
  }

  private parseBlock(block: string): void {
    const data: string[] = [];
    let id: string | undefined;
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
      else throw new Error(`unexpected SSE field ${JSON.stringify(field)} in ${JSON.stringify(block)}`);
    }
    if (data.length === 0) return;
    const text = data.join('\n');
    this.onFrame({ data: text, id, event: JSON.parse(text) as SseEvent, raw: block });
  }
}

function describe(frames: readonly SseFrame[]): string {
  const shown = frames.slice(-10).map((frame) => `  ${frame.id ?? '-'} ${frame.data.slice(0, 160)}`);
  return frames.length === 0
    ? '  (no frames)'
    : `${frames.length > 10 ? `  … ${frames.length - 10} earlier\n` : ''}${shown.join('\n')}`;
}

export function openSse(baseUrl: string, options: OpenSseOptions = {}): Promise<SseClient> {
  const query = { ...(options.query ?? {}) };
  if (options.token && options.tokenInQuery) query.token = options.token;
  const url = eventsUrl(baseUrl, query);
  const headers: Record<string, string> = { accept: 'text/event-stream', ...(options.headers ?? {}) };
  if (options.token && !options.tokenInQuery) headers.authorization = `Bearer ${options.token}`;
  if (options.gzip) headers['accept-encoding'] = 'gzip';
  const defaultTimeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers, agent: false });
    req.on('error', reject);
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // keep the text
          }
          resolve(errorClient(status, res.headers, body));
        });
        return;
      }
      resolve(streamClient(res, req.destroy.bind(req), defaultTimeout));
    });
    req.end();
  });
}

function errorClient(status: number, headers: IncomingHttpHeaders, body: unknown): SseClient {
  const fail = (): Promise<never> =>
    Promise.reject(new Error(`SSE request answered ${status}: ${JSON.stringify(body)}`));
  return {
    status,
    headers,
    body,
    frames: [],
    ended: Promise.resolve(),
    isEnded: true,
    next: fail,
    collect: fail,
    unread: () => [],
    close: () => undefined,
  };
}

function streamClient(res: IncomingMessage, destroy: () => void, defaultTimeout: number): SseClient {
  const frames: SseFrame[] = [];
  let consumed = 0;
  let ended = false;
  let endError: Error | null = null;
  const wakers = new Set<() => void>();
  const notify = (): void => {
    for (const wake of [...wakers]) wake();
  };
  const parser = new SseParser((frame) => {
    frames.push(frame);
    notify();
  });
  const decoder = new StringDecoder('utf8');
  let finish!: () => void;
  const endedPromise = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const onEnd = (error?: Error): void => {
    if (ended) return;
    ended = true;
    if (error) endError = error;
    finish();
    notify();
  };

  const source = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res;
  source.on('data', (chunk: Buffer) => {
    try {
      parser.push(decoder.write(chunk));
    } catch (error) {
      onEnd(error instanceof Error ? error : new Error(String(error)));
      destroy();
    }
  });
  source.on('end', () => onEnd());
  source.on('error', (error: Error) => onEnd(error));
  res.on('close', () => onEnd());

  async function next(predicate?: (frame: SseFrame) => boolean, timeoutMs = defaultTimeout): Promise<SseFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (consumed < frames.length) {
        const frame = frames[consumed++] as SseFrame;
        if (!predicate || predicate(frame)) return frame;
      }
      if (endError) throw new Error(`SSE stream failed: ${endError.message}`);
      if (ended) throw new Error(`SSE stream ended before the expected frame arrived; received:\n${describe(frames)}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out after ${timeoutMs} ms waiting for an SSE frame; received:\n${describe(frames)}`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          wakers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        wakers.add(wake);
      });
    }
  }

  return {
    status: 200,
    headers: res.headers,
    body: undefined,
    frames,
    ended: endedPromise,
    get isEnded() {
      return ended;
    },
    next,
    async collect(n, predicate, timeoutMs = defaultTimeout) {
      const deadline = Date.now() + timeoutMs;
      const out: SseFrame[] = [];
      while (out.length < n) out.push(await next(predicate, Math.max(1, deadline - Date.now())));
      return out;
    },
    unread: () => frames.slice(consumed),
    close() {
      destroy();
      onEnd();
    },
  };
}

/** Splits an event id `<epoch>:<offset>:<tag>`; throws on anything else. */
export function splitEventId(id: string | undefined): { epoch: string; offset: number; tag: string } {
  const parts = (id ?? '').split(':');
  if (parts.length !== 3) throw new Error(`not an event id: ${String(id)}`);
  const [epoch, offset, tag] = parts as [string, string, string];
  return { epoch, offset: Number(offset), tag };
}

/** Waits until `condition()` holds, re-checking once per event-loop turn; fails after `timeoutMs`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Resolves like `promise`, or fails with `what` after `timeoutMs` (the timer never outlives it). */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
