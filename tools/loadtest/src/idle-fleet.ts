// The idle phase's CLIs spread over generator child processes (idle-child.ts): one process holds
// at most its fd limit in sockets (20 000 on the reference machine, soft and hard), and one source
// address has ~28 000 ephemeral ports towards one hub port, so each child gets its own loopback
// source address (127.0.0.2, 127.0.0.3, …) and at most `perProcess` CLIs. The children's reports
// are replayed into this run's stats, so phases, timeline and totals read as if one process ran
// them; each child's CPU is kept apart so a level the generator could not produce is visible.
import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SimContext } from './context.js';
import { type ChildCommand, ChildReportSchema } from './idle-messages.js';

export interface FleetChild {
  index: number;
  pid: number;
  /** Latest reports (not deltas). */
  live: number;
  cpuMs: number;
  fds: number | null;
  fdLimit: number | null;
  exited: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** 127.0.0.<2+i> when the hub is reached over IPv4 loopback; else the system picks. */
export function sourceAddressFor(url: string, child: number): string | null {
  const host = new URL(url).hostname;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) ? `127.0.0.${2 + (child % 250)}` : null;
}

export class IdleFleet {
  readonly children: FleetChild[] = [];
  private readonly procs: ChildProcess[] = [];
  private readonly grown = new Map<number, () => void>();
  private stopping = false;

  constructor(
    private readonly ctx: SimContext,
    readonly processes: number,
  ) {}

  /** Forks the children (TypeScript through tsx's loader, as the parent runs). */
  start(maxSeconds: number): void {
    const require = createRequire(import.meta.url);
    const tsx = pathToFileURL(require.resolve('tsx')).href;
    const entry = fileURLToPath(new URL('./idle-child.ts', import.meta.url));
    for (let i = 0; i < this.processes; i += 1) {
      const proc = fork(entry, [], { execArgv: ['--import', tsx], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      const child: FleetChild = {
        index: i,
        pid: proc.pid ?? 0,
        live: 0,
        cpuMs: 0,
        fds: null,
        fdLimit: null,
        exited: false,
      };
      proc.on('message', (raw: unknown) => this.onReport(child, raw));
      proc.on('exit', () => {
        child.exited = true;
        if (!this.stopping && !this.ctx.stopped()) this.ctx.stats.error('generator-child-exited');
        this.grown.get(i)?.();
      });
      proc.on('error', () => this.ctx.stats.error('generator-child-error'));
      this.procs.push(proc);
      this.children.push(child);
      const o = this.ctx.options;
      this.command(i, {
        type: 'init',
        url: this.ctx.url,
        token: this.ctx.token,
        runId: this.ctx.runId,
        child: i,
        localAddress: sourceAddressFor(this.ctx.url, i),
        connectTimeoutMs: o.connectTimeoutMs,
        connectConcurrency: Math.max(1, Math.ceil(o.connectConcurrency / this.processes)),
        aliveMs: o.idleAliveMs,
        maxSeconds: maxSeconds + 30,
      });
    }
  }

  private command(i: number, command: ChildCommand): void {
    const proc = this.procs[i];
    if (proc?.connected) proc.send(command);
  }

  private onReport(child: FleetChild, raw: unknown): void {
    const parsed = ChildReportSchema.safeParse(raw);
    if (!parsed.success) {
      this.ctx.stats.error('generator-child-bad-report');
      return;
    }
    const r = parsed.data;
    const stats = this.ctx.stats;
    for (let k = 0; k < r.heartbeats; k += 1) stats.heartbeat();
    for (const ms of r.connectMs) stats.connected(ms);
    for (const ms of r.sessionCreateMs) stats.sessionCreated(ms);
    for (const [kind, n] of Object.entries(r.errors)) for (let k = 0; k < n; k += 1) stats.error(kind);
    stats.openSockets += r.live - child.live;
    child.live = r.live;
    child.cpuMs = r.cpuMs;
    child.fds = r.fds;
    child.fdLimit = r.fdLimit;
    if (r.type === 'grown') this.grown.get(child.index)?.();
  }

  connected(): number {
    return this.children.reduce((sum, c) => sum + c.live, 0);
  }

  /** CLIs each child should hold for `level` in all: as even as possible. */
  static shares(level: number, processes: number): number[] {
    return Array.from({ length: processes }, (_, i) => Math.floor(level / processes) + (i < level % processes ? 1 : 0));
  }

  /** Grows every child to its share of `level`; resolves when all have answered or at the deadline. */
  async grow(level: number, deadline: number, stopped: () => boolean): Promise<void> {
    const shares = IdleFleet.shares(level, this.processes);
    const rate = Math.max(1, this.ctx.options.connectRate / this.processes);
    const withinMs = Math.max(1, Math.round(deadline - performance.now()));
    const done = this.children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exited) return resolve();
          this.grown.set(c.index, resolve);
          this.command(c.index, { type: 'grow', to: shares[c.index] ?? 0, rate, withinMs });
        }),
    );
    // Bounded: the children's own deadline plus a margin, or the run's stop signal.
    const end = performance.now() + withinMs + 5_000;
    let all = false;
    void Promise.all(done).then(() => {
      all = true;
    });
    while (!all && !stopped() && performance.now() < end) await sleep(50);
    this.grown.clear();
  }

  /** Tells every child to close its sockets and leave; kills what is still there after 10 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (let i = 0; i < this.procs.length; i += 1) this.command(i, { type: 'stop' });
    const end = performance.now() + 10_000;
    while (this.children.some((c) => !c.exited) && performance.now() < end) await sleep(50);
    for (const [i, proc] of this.procs.entries()) if (!this.children[i]?.exited) proc.kill('SIGKILL');
  }
}
