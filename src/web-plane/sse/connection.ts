// One SSE response: its phases (handshake → live → closed), its bounded outgoing queue and the
// optional gzip stage.
//
// Backpressure: frames go into a per-connection queue, which is handed to the sink (the
// response, or the gzip stream piped into it) in one write per event-loop turn — at most one per
// MIN_FLUSH_INTERVAL_MS — and only while the sink accepts writes (`write` returned true); after a
// `false` the pump waits for 'drain'. Bytes still in the queue are bytes the socket has not
// accepted. Live frames and heartbeats that would push the queue past `maxBufferedBytes` close the
// connection (the client reconnects with its cursor and resumes from the shared log), so a client
// that stops reading costs at most that bound plus one socket buffer.
//
// During the handshake, live events are held back in `pendingLive` (also bounded) while the
// replay is written with `writePaced`, which waits for the queue to drain instead of failing:
// a replay is bounded by the log's retention, and a big one must not look like a slow client.
import type { ServerResponse } from 'node:http';
import { constants as zlibConstants, createGzip, type Gzip } from 'node:zlib';
import type { DeliveryFilter } from './delivery-filter.js';
import type { Frame } from './frames.js';

export type CloseReason = 'client' | 'slow' | 'shutdown' | 'epoch-changed' | 'resync' | 'error';

export interface ConnectionOptions {
  subscriptionId: string;
  filter: DeliveryFilter;
  gzip: boolean;
  maxBufferedBytes: number;
  /** Shortest time between two writes (default MIN_FLUSH_INTERVAL_MS). */
  minFlushIntervalMs?: number;
  /** Called once per frame queued (metrics). */
  onFrame(type: string): void;
  /** Called exactly once, when the connection closes for any reason. */
  onClosed(connection: SseConnection, reason: CloseReason): void;
}

interface HeldEvent {
  epoch: string;
  offset: number;
  frame: Frame;
}

type Phase = 'handshake' | 'live' | 'closed';

/**
 * Shortest time between two writes of one stream. An event that finds the stream quiet goes out on
 * the next turn; under a steady flow the frames of this long share one write (one syscall and,
 * with gzip, one sync flush): at 4 000 events/s, 8 frames per write instead of one or two.
 */
export const MIN_FLUSH_INTERVAL_MS = 2;

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  Connection: 'keep-alive',
  // Tells nginx-style proxies not to buffer the stream.
  'X-Accel-Buffering': 'no',
} as const;

export class SseConnection {
  readonly subscriptionId: string;
  readonly filter: DeliveryFilter;
  private phase: Phase = 'handshake';
  private headersSent = false;
  private gzip: Gzip | null = null;

  private pendingLive: HeldEvent[] = [];
  private pendingLiveBytes = 0;

  /** Frames not yet handed to the sink. */
  private queue: Frame[] = [];
  private queuedBytes = 0;
  private waitingForDrain = false;
  private flushScheduled = false;
  /** When the queue was last handed to the sink (ms, monotonic). */
  private lastFlushAt = Number.NEGATIVE_INFINITY;
  /** Resolvers of writePaced calls waiting for the queue to fall under the bound. */
  private roomWaiters: (() => void)[] = [];

  /** Log epoch this connection follows; set when it goes live. */
  private epoch: string | null = null;
  /** Highest log offset already covered (written, or deliberately skipped by the replay). */
  private lastOffset = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: ConnectionOptions,
  ) {
    this.subscriptionId = options.subscriptionId;
    this.filter = options.filter;
    res.once('close', () => this.close('client'));
    res.on('error', () => this.close('error'));
  }

  get closed(): boolean {
    return this.phase === 'closed';
  }

  /** The stream has started (headers out), i.e. the connection has read the log already. */
  get started(): boolean {
    return this.headersSent && this.phase !== 'closed';
  }

  /** Sends the status line and headers now, so the client sees the stream open at once. */
  open(): void {
    if (this.phase === 'closed' || this.headersSent) return;
    this.headersSent = true;
    if (this.options.gzip) {
      // Appended rather than set: CORS may already have put `Origin` in Vary.
      this.res.appendHeader('Vary', 'Accept-Encoding');
      this.res.writeHead(200, { ...SSE_HEADERS, 'Content-Encoding': 'gzip' });
      const gzip = createGzip();
      gzip.on('error', () => this.close('error'));
      gzip.pipe(this.res);
      this.gzip = gzip;
    } else {
      this.res.writeHead(200, SSE_HEADERS);
    }
    this.res.flushHeaders();
  }

  /**
   * A live event that passed this connection's filter, in log order. Held back during the
   * handshake; afterwards written unless the replay already covered its offset.
   */
  deliverLive(epoch: string, offset: number, frame: Frame): void {
    if (this.phase === 'closed') return;
    if (this.phase === 'handshake') {
      this.pendingLive.push({ epoch, offset, frame });
      this.pendingLiveBytes += frame.data.length;
      if (this.pendingLiveBytes > this.options.maxBufferedBytes) this.close('slow');
      return;
    }
    this.writeLive({ epoch, offset, frame });
  }

  /** Heartbeats: only once live, so `connection-changed` stays the first frame. */
  sendUnlogged(frame: Frame): void {
    if (this.phase !== 'live') return;
    this.enqueueBounded(frame);
  }

  /** Handshake writes (connection-changed, replay): waits for room instead of failing. */
  async writePaced(frame: Frame): Promise<void> {
    if (this.phase === 'closed') return;
    this.enqueue(frame);
    while (!this.closed && this.queuedBytes > this.options.maxBufferedBytes) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
  }

  /**
   * Ends the handshake: from now on events of `epoch` after `coveredOffset` are written. Flushes
   * the held-back live events first; the loop re-checks because flushing may wait for room while
   * more events are held back, and only an empty hold switches to direct writes.
   */
  async goLive(epoch: string, coveredOffset: number): Promise<void> {
    if (this.phase !== 'handshake') return;
    this.epoch = epoch;
    this.lastOffset = coveredOffset;
    for (;;) {
      if (this.phase !== 'handshake') return;
      const held = this.pendingLive.shift();
      if (!held) break;
      this.pendingLiveBytes -= held.frame.data.length;
      // Not accepted: already written by the replay (skip it), or the epoch moved (closed now).
      if (!this.acceptLive(held)) continue;
      await this.writePaced(held.frame);
    }
    this.phase = 'live';
  }

  close(reason: CloseReason): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.pendingLive = [];
    this.pendingLiveBytes = 0;
    this.queue = [];
    this.queuedBytes = 0;
    for (const resolve of this.roomWaiters.splice(0)) resolve();
    if (!this.headersSent) {
      // Still before the stream started: an 'error' is answered by the opener (as JSON), a
      // client that left needs nothing; a shutdown says so the way upstream does.
      if (reason === 'shutdown' || reason === 'epoch-changed') {
        this.res.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8' });
        this.res.end(JSON.stringify({ error: 'Not connected' }));
      } else if (reason === 'slow') {
        this.res.destroy();
      }
    } else if (reason === 'shutdown' || reason === 'epoch-changed' || reason === 'resync') {
      // A clean end: the client sees the stream finish and reconnects with its cursor.
      if (this.gzip) this.gzip.end();
      else if (!this.res.writableEnded) this.res.end();
    } else {
      // A slow or broken client: drop what is buffered for it now instead of waiting for it.
      this.gzip?.destroy();
      this.res.destroy();
    }
    this.options.onClosed(this, reason);
  }

  private writeLive(held: HeldEvent): void {
    if (!this.acceptLive(held)) return;
    this.enqueueBounded(held.frame);
  }

  /** Drops what the replay already wrote; closes the stream if the log was reset under it. */
  private acceptLive(held: HeldEvent): boolean {
    if (held.epoch !== this.epoch) {
      // The log lost its history (new epoch, offsets restart). Our cursor arithmetic no longer
      // holds; ending the stream makes the client reconnect and get an honest `gap`.
      this.close('epoch-changed');
      return false;
    }
    if (held.offset <= this.lastOffset) return false;
    this.lastOffset = held.offset;
    return true;
  }

  private enqueueBounded(frame: Frame): void {
    this.enqueue(frame);
    if (this.queuedBytes > this.options.maxBufferedBytes) this.close('slow');
  }

  private enqueue(frame: Frame): void {
    if (this.phase === 'closed') return;
    this.queue.push(frame);
    this.queuedBytes += frame.data.length;
    this.options.onFrame(frame.type);
    this.pump();
  }

  /**
   * Writes on the next turn of the event loop rather than at once, and no sooner than
   * MIN_FLUSH_INTERVAL_MS after the previous write: every frame queued meanwhile (a busy hub
   * delivers many events per turn) goes out in one write — one syscall, and with gzip one sync
   * flush — instead of one per frame.
   */
  private pump(): void {
    if (this.flushScheduled || this.waitingForDrain || this.phase === 'closed') return;
    this.flushScheduled = true;
    const wait = this.lastFlushAt + (this.options.minFlushIntervalMs ?? MIN_FLUSH_INTERVAL_MS) - performance.now();
    if (wait <= 0) setImmediate(this.scheduledFlush);
    else setTimeout(this.scheduledFlush, wait);
  }

  private readonly scheduledFlush = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  private flush(): void {
    if (this.waitingForDrain || this.phase === 'closed') return;
    this.lastFlushAt = performance.now();
    const chunks = this.queue.map((frame) => frame.data);
    this.queue = [];
    this.queuedBytes = 0;
    if (chunks.length > 0 && !this.writeToSink(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks))) {
      this.waitingForDrain = true;
      (this.gzip ?? this.res).once('drain', () => {
        this.waitingForDrain = false;
        this.pump();
      });
    }
    for (const resolve of this.roomWaiters.splice(0)) resolve();
  }

  /** False when the sink wants us to wait for 'drain'. */
  private writeToSink(data: Buffer): boolean {
    if (this.gzip) {
      this.gzip.write(data);
      // Push the compressed bytes of this frame out now; otherwise zlib would sit on them.
      this.gzip.flush(zlibConstants.Z_SYNC_FLUSH);
      return !this.gzip.writableNeedDrain;
    }
    return this.res.write(data);
  }
}
