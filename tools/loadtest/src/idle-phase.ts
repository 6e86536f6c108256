// Idle capacity: for each level, connect idle CLIs up to it (heartbeats only), let one beat
// interval pass so the connect burst is over, then measure the hub over a quiet window. Stops at
// the first level the hub or the generator cannot reach, and says why (an fd limit, connect
// errors, a saturated generator). With `idleProcesses` the CLIs live in generator child
// processes (idle-fleet.ts), so one process's fd limit does not cap the level.
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { CliSim } from './cli-sim.js';
import { transportFor } from './context.js';
import { fdLimit, fdUsage, openFds, socketHolders } from './fd-usage.js';
import { IdleFleet } from './idle-fleet.js';
import { begin, connectCli, finish, ramp, type RunState } from './phases.js';
import { redisUsedMemory } from './redis-info.js';
import type { IdleLevel } from './result-schema.js';
import type { Snapshot } from './sampler.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Fds a process keeps for everything but client sockets (listeners, Redis, logs, epoll…). */
const FD_HEADROOM = 200;

interface GeneratorMark {
  at: number;
  main: number;
  children: number[];
}

function generatorMark(fleet: IdleFleet | null): GeneratorMark {
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    main: (usage.user + usage.system) / 1000,
    children: fleet?.children.map((c) => c.cpuMs) ?? [],
  };
}

function generatorUsage(
  state: RunState,
  fleet: IdleFleet | null,
  from: GeneratorMark,
  to: GeneratorMark,
): IdleLevel['generator'] {
  const wall = Math.max(1, to.at - from.at);
  const pct = (ms: number): number => Math.round((Math.max(0, ms) / wall) * 1000) / 10;
  const main = {
    pid: process.pid,
    role: 'main' as const,
    clis: fleet ? 0 : state.idleClis.filter((c) => c.socket?.connected === true).length,
    cpuPercent: pct(to.main - from.main),
    fds: openFds('self'),
    fdLimit: fdLimit('self'),
  };
  const children = (fleet?.children ?? []).map((c, i) => ({
    pid: c.pid,
    role: 'child' as const,
    clis: c.live,
    cpuPercent: pct((to.children[i] ?? 0) - (from.children[i] ?? 0)),
    fds: c.fds,
    fdLimit: c.fdLimit,
  }));
  return [main, ...children];
}

/** The hub processes holding client sockets, their open fds and limits (Linux /proc). */
function hubFds(snapshot: Snapshot): IdleLevel['hubFds'] {
  if (!snapshot.proc) return [];
  return socketHolders(snapshot.proc.names).flatMap((p) => {
    const usage = fdUsage(p.pid);
    return usage ? [usage] : [];
  });
}

/** Why a level was not reached, most specific cause first. */
function diagnose(
  level: number,
  live: number,
  fds: IdleLevel['hubFds'],
  generator: IdleLevel['generator'],
  errors: Record<string, number>,
): string {
  const full = fds.find((f) => f.open >= f.limit - 64);
  if (full) return `hub process ${full.pid} at its fd limit (${full.open}/${full.limit} open files)`;
  const genFull = generator.find((g) => g.fds !== null && g.fdLimit !== null && g.fds >= g.fdLimit - 64);
  if (genFull) return `load generator process ${genFull.pid} at its fd limit (${genFull.fds}/${genFull.fdLimit})`;
  const busy = generator.find((g) => g.cpuPercent >= 90);
  const kinds = Object.entries(errors)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([k, n]) => `${k}=${n}`)
    .join(', ');
  const parts = [`${live}/${level} connected`];
  if (kinds) parts.push(`errors ${kinds}`);
  if (busy) parts.push(`load generator process ${busy.pid} at ${busy.cpuPercent.toFixed(0)} % CPU`);
  return parts.join('; ');
}

/** Sockets the hub can still open: Σ over its socket-holding processes of (limit − open − headroom). */
function hubFdRoom(fds: IdleLevel['hubFds']): { room: number; text: string } | null {
  if (fds.length === 0) return null;
  const room = fds.reduce((sum, f) => sum + Math.max(0, f.limit - f.open - FD_HEADROOM), 0);
  const limits = [...new Set(fds.map((f) => f.limit))].join('/');
  return { room, text: `${fds.length} hub process${fds.length > 1 ? 'es' : ''} × fd limit ${limits}` };
}

export async function idlePhase(state: RunState): Promise<void> {
  const o = state.ctx.options;
  const fleet = o.idleProcesses > 0 ? new IdleFleet(state.ctx, o.idleProcesses) : null;
  fleet?.start(o.maxSeconds);
  try {
    await measureLevels(state, fleet);
  } finally {
    await fleet?.stop();
  }
}

async function measureLevels(state: RunState, fleet: IdleFleet | null): Promise<void> {
  const { ctx } = state;
  const o = ctx.options;
  // Baseline: the hub with no idle CLI, after a short settle (start-up garbage, timers).
  const baselineStart = state.sampler.snapshot();
  const settle = performance.now() + 3_000;
  while (performance.now() < settle && !ctx.stopped()) await sleep(50);
  const baseline = state.sampler.snapshot();
  const redisBaseline = o.redisUrl ? await redisUsedMemory(o.redisUrl) : null;
  const baselineCpuPercent =
    baselineStart.proc && baseline.proc
      ? Math.max(
          0,
          ((baseline.proc.cpuMs - baselineStart.proc.cpuMs) / Math.max(1, baseline.at - baselineStart.at)) * 100,
        )
      : null;
  const connected = (): number =>
    fleet ? fleet.connected() : state.idleClis.filter((c) => c.socket?.connected === true).length;
  let previous: { rss: number; connected: number } | null = null;
  let held = 0;
  for (const level of o.idleLevels) {
    if (ctx.stopped()) return;
    const { phase, extras } = begin(state, `idle-${level}`, 'idle');
    const genFrom = generatorMark(fleet);
    const blank = (stopReason: string): IdleLevel => ({
      level,
      connected: connected(),
      reached: false,
      windowS: 0,
      heartbeats: 0,
      heartbeatsPerS: 0,
      hubCpuMs: null,
      hubCpuPercent: null,
      cpuMsPerHeartbeat: null,
      hubRssBytes: null,
      hubRssBaselineBytes: baseline.proc?.rssBytes ?? null,
      rssBytesPerConnection: null,
      rssSlopeBytesPerConnection: null,
      hubBaselineCpuPercent: baselineCpuPercent,
      connectPerS: null,
      connectP99Ms: null,
      expectedHeartbeatsPerS: null,
      redisUsedBytes: null,
      redisBytesPerSession: null,
      generator: generatorUsage(state, fleet, genFrom, generatorMark(fleet)),
      hubFds: hubFds(state.sampler.snapshot()),
      stopReason,
    });

    // Levels the hub cannot hold are not tried: a ramp into an fd limit only times out.
    const room = hubFdRoom(hubFds(state.sampler.snapshot()));
    if (room && level - held > room.room) {
      extras.idle = blank(`hub fd limit: ${room.text} leaves room for ${held + room.room} CLIs, not ${level}`);
      extras.verdict = 'errors';
      finish(state, extras);
      return;
    }
    const perChild = fleet ? Math.ceil(level / fleet.processes) : level;
    const genLimit = fleet ? (fleet.children[0]?.fdLimit ?? null) : fdLimit('self');
    if (genLimit !== null && perChild > genLimit - FD_HEADROOM) {
      const n = fleet?.processes ?? 1;
      extras.idle = blank(
        `load generator fd limit: ${n} process${n > 1 ? 'es' : ''} × ${genLimit} (raise --idle-processes)`,
      );
      extras.verdict = 'errors';
      finish(state, extras);
      return;
    }

    const rampStart = performance.now();
    // Up to 10× slower than asked (a busy machine: connects then take seconds), then the level
    // counts as not reached; the run's own --max-seconds bounds the sum.
    const rampDeadline = rampStart + ((level - held) / o.connectRate) * 1000 * 10 + 60_000;
    if (fleet) {
      await fleet.grow(level, rampDeadline, () => ctx.stopped());
      phase.rampMs += performance.now() - rampStart;
    } else {
      const from = state.idleClis.length;
      for (let i = from; i < level; i += 1) state.idleClis.push(new CliSim(i, ctx, transportFor(o, i), 'idle'));
      await ramp(ctx, level - from, (i) => connectCli(state.idleClis[from + i] as CliSim, o.idleAliveMs), rampDeadline);
    }
    held = level;
    // Let every new CLI reach its steady beat (random first offset < one interval).
    const settleEnd = performance.now() + o.idleAliveMs;
    while (performance.now() < settleEnd && !ctx.stopped()) await sleep(50);
    const reached = connected() >= level;
    const start = state.sampler.snapshot();
    const beatsBefore = countHeartbeats(state);
    const windowEnd = performance.now() + o.idleSeconds * 1000;
    while (performance.now() < windowEnd && !ctx.stopped()) await sleep(50);
    const end = state.sampler.snapshot();
    const redisNow = o.redisUrl ? await redisUsedMemory(o.redisUrl) : null;
    const heartbeats = countHeartbeats(state) - beatsBefore;
    const windowS = (end.at - start.at) / 1000;
    const cpuMs = start.proc && end.proc ? end.proc.cpuMs - start.proc.cpuMs : null;
    const live = connected();
    const generator = generatorUsage(state, fleet, genFrom, generatorMark(fleet));
    const fds = hubFds(end);
    const expectedBeats = live / (o.idleAliveMs / 1000);
    const heartbeatsPerS = windowS > 0 ? heartbeats / windowS : 0;
    const ok = reached && live >= level;
    let stopReason: string | null = ok ? null : diagnose(level, live, fds, generator, phase.errors);
    // The generator could not send the beats of this level: its per-beat costs still hold, but
    // the next level would measure the generator, not the hub.
    if (ok && heartbeatsPerS < expectedBeats * 0.8) {
      const top = generator.reduce((a, g) => (g.cpuPercent > a.cpuPercent ? g : a));
      stopReason = `load generator sent ${heartbeatsPerS.toFixed(0)} of ${expectedBeats.toFixed(0)} beats/s (its busiest process ${top.cpuPercent.toFixed(0)} % CPU, ${cpus().length} cores)`;
    }
    extras.idle = {
      level,
      connected: live,
      reached: ok,
      windowS,
      heartbeats,
      heartbeatsPerS,
      hubCpuMs: cpuMs,
      hubCpuPercent: cpuMs !== null && windowS > 0 ? (cpuMs / (windowS * 1000)) * 100 : null,
      cpuMsPerHeartbeat: cpuMs !== null && heartbeats > 0 ? cpuMs / heartbeats : null,
      hubRssBytes: end.proc?.rssBytes ?? null,
      hubRssBaselineBytes: baseline.proc?.rssBytes ?? null,
      rssBytesPerConnection:
        end.proc && baseline.proc && live > 0 ? (end.proc.rssBytes - baseline.proc.rssBytes) / live : null,
      rssSlopeBytesPerConnection:
        end.proc && previous && live > previous.connected
          ? (end.proc.rssBytes - previous.rss) / (live - previous.connected)
          : null,
      hubBaselineCpuPercent: baselineCpuPercent,
      connectPerS: phase.rampMs > 0 ? phase.connected / (phase.rampMs / 1000) : null,
      connectP99Ms: phase.connect.count > 0 ? phase.connect.percentileMs(99) : null,
      expectedHeartbeatsPerS: expectedBeats,
      redisUsedBytes: redisNow,
      redisBytesPerSession:
        redisNow !== null && redisBaseline !== null && live > 0 ? (redisNow - redisBaseline) / live : null,
      generator,
      hubFds: fds,
      stopReason,
    };
    if (end.proc) previous = { rss: end.proc.rssBytes, connected: live };
    extras.verdict = ok ? 'ok' : 'errors';
    finish(state, extras);
    if (stopReason !== null) return;
  }
}

function countHeartbeats(state: RunState): number {
  return state.ctx.stats.phases.reduce((sum, p) => sum + p.heartbeats, 0);
}
