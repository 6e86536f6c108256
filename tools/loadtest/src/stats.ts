// Bookkeeping of one load-test run: every emitted message gets a run-global id, and every SSE
// delivery is attributed to the phase the message was SENT in (not the one it arrived in), so a
// slow hub's late deliveries still count against the rate that caused them. A per-second window
// feeds the live progress line and the timeline of the report.
import { LatencyHistogram } from './histogram.js';
import type { PhaseKind } from './options.js';

export type ErrorCounts = Record<string, number>;

export class PhaseStats {
  startedAt = 0;
  endedAt = 0;
  targetRate: number | null = null;
  sent = 0;
  heartbeats = 0;
  expectedDeliveries = 0;
  deliveries = 0;
  accepted = 0;
  readonly latency = new LatencyHistogram();
  readonly connect = new LatencyHistogram();
  readonly sessionCreate = new LatencyHistogram();
  connected = 0;
  /** Wall time spent in connect ramps (the connect rate is connects ÷ this, not ÷ the phase). */
  rampMs = 0;
  readonly rpc = new LatencyHistogram();
  rpcOk = 0;
  readonly rest = new LatencyHistogram();
  restOk = 0;
  readonly errors: ErrorCounts = {};

  constructor(
    readonly index: number,
    readonly name: string,
    readonly kind: PhaseKind,
  ) {}
}

export class WindowStats {
  sent = 0;
  deliveries = 0;
  accepted = 0;
  heartbeats = 0;
  connected = 0;
  rpcOk = 0;
  restOk = 0;
  errors = 0;
  readonly latency = new LatencyHistogram();

  reset(): void {
    this.sent = 0;
    this.deliveries = 0;
    this.accepted = 0;
    this.heartbeats = 0;
    this.connected = 0;
    this.rpcOk = 0;
    this.restOk = 0;
    this.errors = 0;
    this.latency.reset();
  }
}

/** Growable typed arrays indexed by message id. */
class ByteColumn {
  data = new Uint8Array(1 << 16);

  ensure(index: number): void {
    if (index < this.data.length) return;
    let size = this.data.length;
    while (size <= index) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.data);
    this.data = next;
  }
}

export class RunStats {
  readonly phases: PhaseStats[] = [];
  readonly window = new WindowStats();
  readonly totalErrors: ErrorCounts = {};
  private nextId = 0;
  /** Phase index of each message (phases ≤ 255 per run). */
  private readonly phaseOf = new ByteColumn();
  /** Deliveries seen per message (saturates at 255; only "≥ 1" matters for `accepted`). */
  private readonly deliveredCount = new ByteColumn();
  /** Connections currently open (CLI + runner sockets). */
  openSockets = 0;
  openStreams = 0;

  get current(): PhaseStats | undefined {
    return this.phases[this.phases.length - 1];
  }

  get messagesSent(): number {
    return this.nextId;
  }

  startPhase(name: string, kind: PhaseKind, at: number): PhaseStats {
    if (this.phases.length >= 255) throw new Error('too many phases in one run (255 max)');
    const current = this.current;
    if (current && current.endedAt === 0) current.endedAt = at;
    const phase = new PhaseStats(this.phases.length, name, kind);
    phase.startedAt = at;
    this.phases.push(phase);
    return phase;
  }

  endPhase(at: number): void {
    const current = this.current;
    if (current && current.endedAt === 0) current.endedAt = at;
  }

  /** Allocates the id of a message about to be emitted; `expected` = deliveries it should get. */
  nextMessage(expected: number): number {
    const id = this.nextId;
    this.nextId += 1;
    this.phaseOf.ensure(id);
    this.deliveredCount.ensure(id);
    const phase = this.current;
    this.phaseOf.data[id] = phase?.index ?? 0;
    if (phase) {
      phase.sent += 1;
      phase.expectedDeliveries += expected;
    }
    this.window.sent += 1;
    return id;
  }

  /** Undo of nextMessage's counting when the emit could not even be attempted. */
  messageNotSent(id: number, expected: number): void {
    const phase = this.phases[this.phaseOf.data[id] ?? 0];
    if (phase) {
      phase.sent -= 1;
      phase.expectedDeliveries -= expected;
    }
    this.window.sent -= 1;
  }

  /** One SSE delivery of message `id` (already de-duplicated per stream by the caller). */
  delivered(id: number, latencyMs: number): void {
    if (id < 0 || id >= this.nextId) {
      this.error('sse-unknown-message');
      return;
    }
    const phase = this.phases[this.phaseOf.data[id] ?? 0];
    const first = this.deliveredCount.data[id] === 0;
    if ((this.deliveredCount.data[id] ?? 0) < 255)
      this.deliveredCount.data[id] = (this.deliveredCount.data[id] ?? 0) + 1;
    if (phase) {
      phase.deliveries += 1;
      if (first) phase.accepted += 1;
      phase.latency.recordMs(latencyMs);
    }
    this.window.deliveries += 1;
    if (first) this.window.accepted += 1;
    this.window.latency.recordMs(latencyMs);
  }

  heartbeat(): void {
    const phase = this.current;
    if (phase) phase.heartbeats += 1;
    this.window.heartbeats += 1;
  }

  connected(ms: number): void {
    const phase = this.current;
    if (phase) {
      phase.connected += 1;
      phase.connect.recordMs(ms);
    }
    this.window.connected += 1;
  }

  sessionCreated(ms: number): void {
    this.current?.sessionCreate.recordMs(ms);
  }

  rpcDone(ms: number): void {
    const phase = this.current;
    if (phase) {
      phase.rpcOk += 1;
      phase.rpc.recordMs(ms);
    }
    this.window.rpcOk += 1;
  }

  restDone(ms: number): void {
    const phase = this.current;
    if (phase) {
      phase.restOk += 1;
      phase.rest.recordMs(ms);
    }
    this.window.restOk += 1;
  }

  /** Errors by kind: a short stable identifier, e.g. `connect-timeout`, `rest-http-500`. */
  error(kind: string): void {
    const phase = this.current;
    if (phase) phase.errors[kind] = (phase.errors[kind] ?? 0) + 1;
    this.totalErrors[kind] = (this.totalErrors[kind] ?? 0) + 1;
    this.window.errors += 1;
  }
}
