// Once a second: turns the stats window into a timeline point (rates, latency of that second,
// hub CPU/RSS from /proc, the load generator's own CPU and event-loop delay), prints the live
// progress line, and resets the window. Also takes the snapshots phases use for their totals.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { SimContext } from './context.js';
import { cpuPercent, procAvailable, sampleProcesses, type ProcSample } from './proc-stats.js';
import type { TimelinePoint } from './result-schema.js';

export interface Snapshot {
  at: number;
  proc: ProcSample | null;
  /** This process's user+system CPU, ms. */
  selfCpuMs: number;
}

function selfCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

const round = (v: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

export function formatBytes(bytes: number): string {
  if (bytes < 0) return `-${formatBytes(-bytes)}`;
  if (bytes >= 1024 ** 3) return `${round(bytes / 1024 ** 3, 2)} GiB`;
  if (bytes >= 1024 ** 2) return `${round(bytes / 1024 ** 2, 1)} MiB`;
  if (bytes >= 1024) return `${round(bytes / 1024, 1)} KiB`;
  return `${Math.round(bytes)} B`;
}

export class Sampler {
  readonly timeline: TimelinePoint[] = [];
  private timer: NodeJS.Timeout | null = null;
  private last: Snapshot;
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });
  private readonly origin: number;
  private readonly procOk: boolean;
  phaseLabel = 'setup';

  constructor(
    private readonly ctx: SimContext,
    private readonly pids: readonly number[],
    private readonly progress: ((line: string) => void) | undefined,
    /** Bound on timeline length (one point a second). */
    private readonly maxPoints: number,
  ) {
    this.procOk = pids.length > 0 && procAvailable();
    this.origin = performance.now();
    this.last = this.snapshot();
  }

  start(): void {
    this.loop.enable();
    this.timer = setInterval(() => this.tick(), 1_000);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.loop.disable();
  }

  elapsedS(at = performance.now()): number {
    return (at - this.origin) / 1000;
  }

  snapshot(): Snapshot {
    const at = performance.now();
    return { at, proc: this.procOk ? sampleProcesses(this.pids, at) : null, selfCpuMs: selfCpuMs() };
  }

  private tick(): void {
    const now = this.snapshot();
    const dt = (now.at - this.last.at) / 1000;
    if (dt <= 0) return;
    if (now.proc && this.last.proc) {
      // A hub process gone between two samples (a crashed or restarted worker) is worth knowing.
      // Redis's own children are not: it forks them for AOF rewrites and snapshots, and they
      // exit when done.
      for (const [pid, name] of this.last.proc.names) {
        if (now.proc.names.has(pid)) continue;
        if (!this.pids.includes(pid) && name.startsWith('redis')) continue;
        this.ctx.stats.error(`hub-process-exited-${name.replace(/[^A-Za-z0-9_.-]+/g, '-')}`);
      }
    }
    const w = this.ctx.stats.window;
    const lat = w.latency.summary();
    const point: TimelinePoint = {
      t: round(this.elapsedS(now.at), 2),
      phase: this.phaseLabel,
      sentPerS: round(w.sent / dt),
      acceptedPerS: round(w.accepted / dt),
      deliveriesPerS: round(w.deliveries / dt),
      heartbeatsPerS: round(w.heartbeats / dt),
      connectsPerS: round(w.connected / dt),
      rpcPerS: round(w.rpcOk / dt),
      restPerS: round(w.restOk / dt),
      errors: w.errors,
      p50: lat.p50,
      p99: lat.p99,
      max: lat.max,
      openSockets: this.ctx.stats.openSockets,
      openStreams: this.ctx.stats.openStreams,
      hubCpuPercent: now.proc && this.last.proc ? round(cpuPercent(this.last.proc, now.proc)) : null,
      hubRssBytes: now.proc ? now.proc.rssBytes : null,
      loadtestCpuPercent: round(((now.selfCpuMs - this.last.selfCpuMs) / (now.at - this.last.at)) * 100),
      loopDelayP99Ms: round(this.loop.percentile(99) / 1e6, 2),
    };
    this.loop.reset();
    w.reset();
    this.last = now;
    if (this.timeline.length < this.maxPoints) this.timeline.push(point);
    this.progress?.(formatProgress(point));
  }
}

export function formatProgress(p: TimelinePoint): string {
  const parts = [
    `[${p.t.toFixed(0).padStart(4)}s] ${p.phase.padEnd(16)}`,
    `sent ${p.sentPerS.toFixed(0).padStart(6)}/s sse ${p.deliveriesPerS.toFixed(0).padStart(6)}/s`,
    `e2e p50 ${p.p50.toFixed(1)} p99 ${p.p99.toFixed(1)} ms`,
  ];
  if (p.connectsPerS > 0) parts.push(`conn ${p.connectsPerS.toFixed(0)}/s`);
  if (p.heartbeatsPerS > 0) parts.push(`hb ${p.heartbeatsPerS.toFixed(0)}/s`);
  if (p.rpcPerS > 0) parts.push(`rpc ${p.rpcPerS.toFixed(0)}/s`);
  if (p.restPerS > 0) parts.push(`rest ${p.restPerS.toFixed(0)}/s`);
  parts.push(`socks ${p.openSockets} streams ${p.openStreams}`, `err ${p.errors}`);
  if (p.hubCpuPercent !== null) parts.push(`hub ${p.hubCpuPercent.toFixed(0)}% ${formatBytes(p.hubRssBytes ?? 0)}`);
  parts.push(`lt ${p.loadtestCpuPercent.toFixed(0)}% lag ${p.loopDelayP99Ms.toFixed(0)}ms`);
  return parts.join(' | ');
}
