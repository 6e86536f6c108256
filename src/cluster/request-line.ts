// Reads the request line of a connection's first HTTP request in the cluster primary, just far
// enough to choose a worker (by the engine.io `sid` in the target): the bytes read are handed to
// the worker with the connection, which parses the whole request itself.
//
// Bounded: a line longer than MAX_REQUEST_LINE_BYTES, bytes that cannot start an HTTP/1.x request
// (TLS, a port scanner, garbage) or a line not complete within REQUEST_LINE_TIMEOUT_MS end the
// connection. The scan is incremental: a client sending one byte at a time costs one step per
// byte, never a rescan of what came before.
import type { Socket as NetSocket } from 'node:net';

export const MAX_REQUEST_LINE_BYTES = 16 * 1024;
export const REQUEST_LINE_TIMEOUT_MS = 10_000;
/** Longer than any registered HTTP method (the longest, UPDATEREDIRECTREF, has 17). */
const MAX_METHOD_LENGTH = 24;
const VERSION = 'HTTP/';

export type RequestLine =
  /** `head`: every byte read from the connection so far (the request line and whatever followed). */
  | { kind: 'line'; target: string; head: Buffer }
  /** Not an HTTP/1.x request line, or too long. */
  | { kind: 'bad' }
  /** Closed, failed or timed out before the line was complete. */
  | { kind: 'gone' };

type Step = 'lead' | 'method' | 'target' | 'version' | 'lf';
type Scan = { kind: 'more' } | { kind: 'bad' } | { kind: 'line'; target: string };

/** Scans bytes as they arrive, chunk by chunk; answers once the line is complete or cannot be one. */
export class RequestLineScanner {
  private step: Step = 'lead';
  /** Bytes of the current step (method length, version characters). */
  private count = 0;
  private total = 0;
  private target = '';

  feed(chunk: Buffer): Scan {
    let targetFrom = this.step === 'target' ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      switch (this.step) {
        case 'lead':
          // Empty lines before a request are tolerated (RFC 9112 §2.2).
          if (byte === 0x0d || byte === 0x0a) continue;
          if (!isTokenChar(byte)) return { kind: 'bad' };
          this.step = 'method';
          this.count = 1;
          continue;
        case 'method':
          if (byte === 0x20) {
            this.step = 'target';
            targetFrom = i + 1;
            continue;
          }
          if (!isTokenChar(byte) || ++this.count > MAX_METHOD_LENGTH) return { kind: 'bad' };
          continue;
        case 'target':
          if (byte === 0x20) {
            this.target += chunk.toString('latin1', targetFrom, i);
            if (this.target.length === 0) return { kind: 'bad' };
            this.step = 'version';
            this.count = 0;
            continue;
          }
          if (byte < 0x21 || byte > 0x7e) return { kind: 'bad' };
          continue;
        case 'version': {
          // `HTTP/d.d`, then CR LF (or a bare LF).
          const at = this.count++;
          const ok =
            at < VERSION.length
              ? byte === VERSION.charCodeAt(at)
              : at === 5 || at === 7
                ? byte >= 0x30 && byte <= 0x39
                : at === 6
                  ? byte === 0x2e
                  : byte === 0x0d || byte === 0x0a;
          if (!ok) return { kind: 'bad' };
          if (at === 8) {
            if (byte === 0x0a) return { kind: 'line', target: this.target };
            this.step = 'lf';
          }
          continue;
        }
        case 'lf':
          return byte === 0x0a ? { kind: 'line', target: this.target } : { kind: 'bad' };
      }
    }
    if (this.step === 'target') this.target += chunk.toString('latin1', targetFrom);
    this.total += chunk.length;
    return this.total >= MAX_REQUEST_LINE_BYTES ? { kind: 'bad' } : { kind: 'more' };
  }
}

/** tchar of RFC 9110 §5.6.2: the characters of a method. */
function isTokenChar(byte: number): boolean {
  return (
    (byte >= 0x61 && byte <= 0x7a) ||
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x30 && byte <= 0x39) ||
    (byte >= 0x21 && byte <= 0x7e && "!#$%&'*+-.^_`|~".includes(String.fromCharCode(byte)))
  );
}

/**
 * Reads from `socket` until its first request line is complete (normally the first chunk), then
 * pauses it and calls `done` once, synchronously from the read that completed the line.
 */
export function readRequestLine(socket: NetSocket, done: (line: RequestLine) => void): void {
  const scanner = new RequestLineScanner();
  const chunks: Buffer[] = [];
  let timer: NodeJS.Timeout | null = null;
  let finished = false;
  const finish = (line: RequestLine): void => {
    if (finished) return;
    finished = true;
    if (timer) clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('end', onGone);
    socket.removeListener('close', onGone);
    done(line);
  };
  const onGone = (): void => finish({ kind: 'gone' });
  function onData(chunk: Buffer): void {
    chunks.push(chunk);
    const result = scanner.feed(chunk);
    if (result.kind === 'more') {
      // Only a connection whose line did not come in one chunk pays for a timer.
      timer ??= setTimeout(onGone, REQUEST_LINE_TIMEOUT_MS);
      return;
    }
    // The caller hands the connection over (stopping libuv reading in this same tick, so nothing
    // more is read here) or rejects it. Whatever the stream had already buffered belongs to the
    // worker too; read() only when something is buffered (on an empty stream it would ask the
    // handle for more).
    socket.removeListener('data', onData);
    socket.pause();
    while (socket.readableLength > 0) {
      const more = socket.read() as Buffer | null;
      if (more === null) break;
      chunks.push(more);
    }
    const head = chunks.length === 1 ? chunk : Buffer.concat(chunks);
    finish(result.kind === 'bad' ? result : { kind: 'line', target: result.target, head });
  }
  socket.on('data', onData);
  socket.once('end', onGone);
  socket.once('close', onGone);
}
