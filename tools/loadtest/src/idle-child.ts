// One load-generator child process of the idle phase: holds its share of the idle CLIs (each a
// session-scoped `/cli` socket beating `session-alive`), grows it when the parent asks, and
// reports what happened (heartbeats, connect times, errors, its own CPU and fds) about twice a
// second. One process can hold only as many sockets as its fd limit allows, so a 50 000-CLI
// level is spread over several of these (idle-fleet.ts). Bounded: it exits when told to, when the
// parent goes away, or after `maxSeconds` whatever happens.
import { performance } from 'node:perf_hooks';
import { CliSim } from './cli-sim.js';
import type { SimContext } from './context.js';
import { fdLimit, openFds } from './fd-usage.js';
import { ChildCommandSchema, type ChildInit, type ChildReport } from './idle-messages.js';
import { parseLoadtestOptions } from './options.js';
import { connectCli, ramp } from './phases.js';
import { RunStats } from './stats.js';

/** Keeps what the parent has not been told yet, on top of the usual bookkeeping. */
class ForwardingStats extends RunStats {
  pendingHeartbeats = 0;
  pendingConnectMs: number[] = [];
  pendingSessionMs: number[] = [];
  pendingErrors: Record<string, number> = {};

  override heartbeat(): void {
    super.heartbeat();
    this.pendingHeartbeats += 1;
  }
  override connected(ms: number): void {
    super.connected(ms);
    this.pendingConnectMs.push(ms);
  }
  override sessionCreated(ms: number): void {
    super.sessionCreated(ms);
    this.pendingSessionMs.push(ms);
  }
  override error(kind: string): void {
    super.error(kind);
    this.pendingErrors[kind] = (this.pendingErrors[kind] ?? 0) + 1;
  }
}

const send = (message: ChildReport): void => {
  if (process.connected) process.send?.(message);
};

let ctx: SimContext | null = null;
let init: ChildInit | null = null;
let stopped = false;
const stats = new ForwardingStats();
const clis: CliSim[] = [];
let reportTimer: NodeJS.Timeout | null = null;
let lifeTimer: NodeJS.Timeout | null = null;
/** Grow requests run one after another. */
let queue: Promise<void> = Promise.resolve();

function report(type: ChildReport['type']): void {
  const usage = process.cpuUsage();
  const message: ChildReport = {
    type,
    heartbeats: stats.pendingHeartbeats,
    connectMs: stats.pendingConnectMs,
    sessionCreateMs: stats.pendingSessionMs,
    errors: stats.pendingErrors,
    live: clis.filter((c) => c.socket?.connected === true).length,
    cpuMs: (usage.user + usage.system) / 1000,
    fds: openFds('self'),
    fdLimit: fdLimit('self'),
  };
  stats.pendingHeartbeats = 0;
  stats.pendingConnectMs = [];
  stats.pendingSessionMs = [];
  stats.pendingErrors = {};
  send(message);
}

function shutdown(code: number): void {
  if (stopped) return;
  stopped = true;
  if (reportTimer) clearInterval(reportTimer);
  if (lifeTimer) clearTimeout(lifeTimer);
  for (const cli of clis) cli.close();
  report('report');
  // Let the close frames and the last report go out, then leave (bounded).
  setTimeout(() => process.exit(code), 300).unref();
}

async function grow(to: number, rate: number, withinMs: number): Promise<void> {
  if (!ctx || !init || stopped) return;
  const base = ctx;
  const from = clis.length;
  for (let i = from; i < to; i += 1) clis.push(new CliSim(i, base, 'websocket', `idle${init.child}`));
  const rampCtx: SimContext = { ...base, options: { ...base.options, connectRate: rate } };
  await ramp(
    rampCtx,
    Math.max(0, to - from),
    (i) => connectCli(clis[from + i] as CliSim, base.options.idleAliveMs),
    performance.now() + withinMs,
  );
  report('grown');
}

process.on('message', (raw: unknown) => {
  const parsed = ChildCommandSchema.safeParse(raw);
  if (!parsed.success) return;
  const command = parsed.data;
  if (command.type === 'stop') {
    shutdown(0);
    return;
  }
  if (command.type === 'init') {
    if (init) return;
    init = command;
    const options = parseLoadtestOptions({
      url: command.url,
      token: command.token,
      connectTimeoutMs: command.connectTimeoutMs,
      connectConcurrency: command.connectConcurrency,
      idleAliveMs: command.aliveMs,
      subscribers: 0,
      clis: 0,
      phases: ['connect'],
      quiet: true,
    });
    ctx = {
      options,
      url: command.url.replace(/\/+$/, ''),
      token: command.token,
      runId: command.runId,
      stats,
      stopped: () => stopped,
      ...(command.localAddress !== null ? { localAddress: command.localAddress } : {}),
    };
    stats.startPhase('child', 'idle', performance.now());
    reportTimer = setInterval(() => report('report'), 500);
    lifeTimer = setTimeout(() => shutdown(2), command.maxSeconds * 1000);
    return;
  }
  queue = queue.then(() => grow(command.to, command.rate, command.withinMs));
});
// The parent died or closed the channel: nothing will ever stop us otherwise.
process.on('disconnect', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));
