// One simulated agent CLI: `POST /cli/sessions` (as the real CLI does before connecting), a
// session-scoped `/cli` socket, `session-alive` on an interval, and `message` emits whose
// content carries the run id, the message id and the send time (performance.now() of this
// process), which the SSE side reads back to measure CLI emit → SSE receipt.
import { performance } from 'node:perf_hooks';
import type { Socket } from 'socket.io-client';
import { z } from 'zod';
import { connectCliSocket, type SimContext, type Transport } from './context.js';
import { failureKind, requestJson } from './http.js';

const CreatedSessionSchema = z.object({ session: z.object({ id: z.string().min(1) }) });

/** The marker inside a loadtest message's content (`content.content.data`). */
export const MarkerSchema = z.object({
  type: z.literal('loadtest'),
  lt: z.string(),
  g: z.number().int().min(0),
  t: z.number(),
});
export type Marker = z.infer<typeof MarkerSchema>;

/** Padding shared by every message of a size (strings are immutable; no per-message copy). */
const padCache = new Map<number, string>();
function padOf(bytes: number): string {
  let pad = padCache.get(bytes);
  if (pad === undefined) {
    pad = 'x'.repeat(bytes);
    padCache.set(bytes, pad);
  }
  return pad;
}

export class CliSim {
  sid: string | null = null;
  socket: Socket | null = null;
  /** Deliveries each of this CLI's messages should get (all-streams + its own session stream). */
  expectedDeliveries = 0;
  private aliveTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    readonly index: number,
    private readonly ctx: SimContext,
    readonly transport: Transport,
    /** Tag prefix: distinct pools (message CLIs, idle CLIs) never share a session. */
    private readonly pool: string,
  ) {}

  /** POST /cli/sessions; false (and an error counted) when the hub refused. */
  async createSession(): Promise<boolean> {
    const outcome = await requestJson('POST', `${this.ctx.url}/cli/sessions`, {
      bearer: this.ctx.token,
      timeoutMs: this.ctx.options.connectTimeoutMs,
      body: {
        tag: `loadtest-${this.ctx.runId}-${this.pool}-${this.index}`,
        metadata: {
          path: `/tmp/loadtest/${this.pool}/${this.index}`,
          host: 'loadtest',
          flavor: 'claude',
          name: `loadtest ${this.pool} ${this.index}`,
        },
        agentState: null,
      },
    });
    const parsed = outcome.status === 200 ? CreatedSessionSchema.safeParse(outcome.body) : null;
    if (!parsed?.success) {
      this.ctx.stats.error(failureKind('session-create', outcome));
      return false;
    }
    this.ctx.stats.sessionCreated(outcome.ms);
    this.sid = parsed.data.session.id;
    return true;
  }

  /** Session-scoped socket (the auth the real CLI sends); false on failure (counted). */
  async connect(): Promise<boolean> {
    if (this.sid === null || this.closed) return false;
    this.socket = await connectCliSocket(
      this.ctx,
      { token: this.ctx.token, clientType: 'session-scoped', sessionId: this.sid },
      this.transport,
    );
    if (this.socket && this.closed) this.socket.close();
    return this.socket !== null && !this.closed;
  }

  /**
   * `session-alive` now and then every `intervalMs`, the first repeat at a random offset so a
   * thousand CLIs connected in one burst do not beat in lockstep. A plain (not volatile) emit,
   * so every counted heartbeat really went out.
   */
  startAlive(intervalMs: number): void {
    this.stopAlive();
    const beat = (): void => {
      const socket = this.socket;
      if (!socket?.connected || this.ctx.stopped()) return;
      socket.emit('session-alive', { sid: this.sid, time: Date.now(), thinking: false, mode: 'remote' });
      this.ctx.stats.heartbeat();
    };
    beat();
    this.aliveTimer = setTimeout(
      () => {
        beat();
        this.aliveTimer = setInterval(beat, intervalMs);
      },
      Math.floor(Math.random() * intervalMs),
    );
  }

  stopAlive(): void {
    if (this.aliveTimer) {
      clearTimeout(this.aliveTimer);
      clearInterval(this.aliveTimer);
      this.aliveTimer = null;
    }
  }

  /** Emits one message; false when the socket is not connected (counted, not sent). */
  sendMessage(): boolean {
    const socket = this.socket;
    if (!socket?.connected) {
      this.ctx.stats.error('send-while-disconnected');
      return false;
    }
    const g = this.ctx.stats.nextMessage(this.expectedDeliveries);
    const data = {
      type: 'loadtest',
      lt: this.ctx.runId,
      g,
      t: performance.now(),
      pad: padOf(this.ctx.options.payloadBytes),
    };
    socket.emit('message', { sid: this.sid, message: { role: 'agent', content: { type: 'output', data } } });
    return true;
  }

  close(): void {
    this.closed = true;
    this.stopAlive();
    this.socket?.close();
  }
}
