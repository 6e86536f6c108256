// The phases of a run. Each one is bounded by its own deadline and by the run's stop signal; the
// message phases pace emits with a schedule (never catching up in a burst larger than 250 ms of
// traffic), then wait a bounded drain time for late deliveries before judging the phase.
import { performance } from 'node:perf_hooks';
import { CliSim } from './cli-sim.js';
import { transportFor, type SimContext } from './context.js';
import type { IdleLevel, Verdict } from './result-schema.js';
import { runRestTraffic, runRpcLoad, waitForRpcReady } from './rest-sim.js';
import { RunnerSim } from './runner-sim.js';
import type { Sampler, Snapshot } from './sampler.js';
import type { PhaseStats } from './stats.js';
import { loginWeb, SseSubscriber } from './web-sim.js';

export interface PhaseExtras {
  hubStart: Snapshot | null;
  hubEnd: Snapshot | null;
  verdict: Verdict | null;
  idle: IdleLevel | null;
}

export interface RunState {
  ctx: SimContext;
  sampler: Sampler;
  clis: CliSim[];
  idleClis: CliSim[];
  runners: RunnerSim[];
  streams: SseSubscriber[];
  jwt: string | null;
  allStreams: number;
  extras: Map<number, PhaseExtras>;
  stepupStop: string | null;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function begin(
  state: RunState,
  name: string,
  kind: PhaseStats['kind'],
): { phase: PhaseStats; extras: PhaseExtras } {
  const phase = state.ctx.stats.startPhase(name, kind, performance.now());
  state.sampler.phaseLabel = name;
  const extras: PhaseExtras = { hubStart: state.sampler.snapshot(), hubEnd: null, verdict: null, idle: null };
  state.extras.set(phase.index, extras);
  return { phase, extras };
}

export function finish(state: RunState, extras: PhaseExtras): void {
  extras.hubEnd = state.sampler.snapshot();
  state.ctx.stats.endPhase(extras.hubEnd.at);
}

/**
 * Starts `count` connects at most `rate` per second and `concurrency` at a time, until done, the
 * deadline, or stop. Resolves with the number that succeeded.
 */
export async function ramp(
  ctx: SimContext,
  count: number,
  connectOne: (i: number) => Promise<boolean>,
  deadline: number,
): Promise<number> {
  const { connectRate, connectConcurrency } = ctx.options;
  const t0 = performance.now();
  let launched = 0;
  let ok = 0;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  while (launched < count && !ctx.stopped() && performance.now() < deadline) {
    const allowed = Math.min(count, Math.floor((connectRate * (performance.now() - t0)) / 1000) + 1);
    while (launched < allowed && inFlight < connectConcurrency) {
      const i = launched;
      launched += 1;
      inFlight += 1;
      const p: Promise<void> = connectOne(i)
        .then(
          (good) => {
            if (good) ok += 1;
          },
          () => ctx.stats.error('connect-exception'),
        )
        .finally(() => {
          inFlight -= 1;
          pending.delete(p);
        });
      pending.add(p);
    }
    await sleep(inFlight >= connectConcurrency ? 2 : Math.max(1, Math.min(20, 1000 / connectRate)));
  }
  await Promise.all(pending);
  const phase = ctx.stats.current;
  if (phase && count > 0) phase.rampMs += performance.now() - t0;
  return ok;
}

export async function connectCli(cli: CliSim, aliveMs: number): Promise<boolean> {
  if (!(await cli.createSession())) return false;
  if (!(await cli.connect())) return false;
  cli.startAlive(aliveMs);
  return true;
}

/** Web login, `all` streams, runners, CLIs, then per-session streams. */
export async function connectPhase(state: RunState): Promise<void> {
  const { ctx } = state;
  const o = ctx.options;
  const { extras } = begin(state, 'connect', 'connect');
  const deadline = performance.now() + Math.max(30_000, ((o.clis + o.runners) / o.connectRate) * 1000 * 3 + 30_000);

  const needsWeb = o.subscribers > 0 || o.sessionStreams > 0 || o.restRate > 0 || o.phases.includes('rpc');
  if (needsWeb) state.jwt = await loginWeb(ctx);
  if (state.jwt !== null) {
    const subs = Array.from(
      { length: o.subscribers },
      (_, i) => new SseSubscriber(i, ctx, state.jwt as string, { all: true }),
    );
    state.streams.push(...subs);
    const opened = await Promise.all(subs.map((s) => s.open()));
    state.allStreams = opened.filter(Boolean).length;
  }

  for (let i = 0; i < o.runners; i += 1) state.runners.push(new RunnerSim(i, ctx, transportFor(o, i)));
  await ramp(
    ctx,
    o.runners,
    async (i) => {
      const runner = state.runners[i] as RunnerSim;
      return (await runner.createMachine()) && (await runner.connect());
    },
    deadline,
  );

  for (let i = 0; i < o.clis; i += 1) state.clis.push(new CliSim(i, ctx, transportFor(o, i), 'msg'));
  await ramp(ctx, o.clis, (i) => connectCli(state.clis[i] as CliSim, o.aliveMs), deadline);

  for (const cli of state.clis) cli.expectedDeliveries = state.allStreams;
  if (state.jwt !== null && o.sessionStreams > 0) {
    const targets = state.clis.slice(0, o.sessionStreams).filter((c) => c.sid !== null && c.socket !== null);
    await Promise.all(
      targets.map(async (cli) => {
        const stream = new SseSubscriber(state.streams.length, ctx, state.jwt as string, {
          sessionId: cli.sid as string,
        });
        state.streams.push(stream);
        if (await stream.open()) cli.expectedDeliveries += 1;
      }),
    );
  }
  finish(state, extras);
}

/** Judges a message phase after its drain. */
function judge(phase: PhaseStats, durationS: number, ctx: SimContext, generatorCpuPercent: number): Verdict {
  const o = ctx.options;
  const ratio = phase.expectedDeliveries === 0 ? 1 : phase.deliveries / phase.expectedDeliveries;
  const failed = ratio < o.minDelivery || phase.latency.percentileMs(99) >= o.maxP99Ms;
  // A saturated load generator reads SSE late (the hub may even close its streams as slow
  // consumers): then a failure says more about the generator than about the hub.
  if (failed && generatorCpuPercent >= 85) return 'generator';
  if (ratio < o.minDelivery) return 'delivery';
  if (phase.latency.percentileMs(99) >= o.maxP99Ms) return 'p99';
  if (phase.targetRate !== null && phase.sent / durationS < phase.targetRate * 0.9) return 'generator';
  const dropped = Object.entries(phase.errors).some(
    ([kind, n]) => n > 0 && (kind.startsWith('disconnect') || kind.startsWith('hub-error')),
  );
  return dropped ? 'errors' : 'ok';
}

/** Emits at `rate` msg/s (aggregate, round-robin over the connected CLIs) for `seconds`. */
export async function messagePhase(
  state: RunState,
  name: string,
  kind: 'steady' | 'stepup',
  rate: number,
  seconds: number,
): Promise<PhaseStats> {
  const { ctx } = state;
  const o = ctx.options;
  const { phase, extras } = begin(state, name, kind);
  phase.targetRate = rate;
  const live = state.clis.filter((c) => c.socket?.connected === true);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const rest = runRestTraffic(
    ctx,
    {
      jwt: state.jwt ?? '',
      sessionIds: () => live.map((c) => c.sid as string),
      machineIds: () => state.runners.map((r) => r.machineId),
    },
    state.jwt !== null ? o.restRate : 0,
    () => performance.now() >= end,
  );

  // Up to 250 ms of schedule may be caught up after a stall (GC, a busy machine); beyond that
  // the backlog is dropped rather than burst.
  const maxBurst = Math.max(1, Math.ceil(rate * 0.25));
  let scheduled = 0;
  let rr = 0;
  while (live.length > 0 && !ctx.stopped()) {
    const now = performance.now();
    if (now >= end) break;
    let due = Math.floor((rate * (now - t0)) / 1000) - scheduled;
    if (due > maxBurst) {
      // Behind schedule (the generator or its event loop could not keep up): skip the backlog
      // instead of bursting it; the phase's sent rate then shows the shortfall.
      scheduled += due - maxBurst;
      due = maxBurst;
    }
    for (let k = 0; k < due; k += 1) {
      scheduled += 1;
      if (ctx.stats.messagesSent >= o.maxMessages) break;
      (live[rr % live.length] as CliSim).sendMessage();
      rr += 1;
    }
    if (ctx.stats.messagesSent >= o.maxMessages) {
      ctx.stats.error('max-messages-reached');
      break;
    }
    const nextDueIn = ((scheduled + 1) * 1000) / rate - (performance.now() - t0);
    await sleep(Math.max(1, Math.min(10, nextDueIn)));
  }
  const sendS = Math.max(0.001, (performance.now() - t0) / 1000);
  finish(state, extras);
  await rest;

  // Late deliveries still count for this phase (attributed by message id); wait for them, bounded.
  const drainEnd = performance.now() + o.drainMs;
  while (phase.deliveries < phase.expectedDeliveries && performance.now() < drainEnd && !ctx.stopped()) await sleep(10);
  const from = extras.hubStart;
  const to = extras.hubEnd;
  const generatorCpu = from && to && to.at > from.at ? ((to.selfCpuMs - from.selfCpuMs) / (to.at - from.at)) * 100 : 0;
  extras.verdict = judge(phase, sendS, ctx, generatorCpu);
  return phase;
}

export async function steadyPhase(state: RunState): Promise<void> {
  await messagePhase(state, 'steady', 'steady', state.ctx.options.rate, state.ctx.options.duration);
}

/** Raises the rate step by step until a step fails its bounds (or the limits are reached). */
export async function stepupPhase(state: RunState): Promise<void> {
  const o = state.ctx.options;
  let rate = o.stepStart;
  let passed: number | null = null;
  state.stepupStop = 'limit';
  for (let step = 1; step <= o.stepMaxSteps && rate <= o.stepMaxRate && !state.ctx.stopped(); step += 1) {
    const phase = await messagePhase(state, `step${step}@${Math.round(rate)}`, 'stepup', rate, o.stepSeconds);
    const verdict = state.extras.get(phase.index)?.verdict ?? null;
    if (verdict !== 'ok') {
      state.stepupStop = verdict ?? 'stopped';
      if (passed !== null && verdict !== 'generator') await refine(state, phase, passed, rate);
      return;
    }
    passed = rate;
    rate *= o.stepFactor;
  }
  if (state.ctx.stopped()) state.stepupStop = 'stopped';
}

/**
 * Bisects (geometrically) between the last passing and the first failing rate, so the ceiling
 * is known to better than one step factor. Each try first lets the previous backlog drain.
 */
async function refine(state: RunState, failedPhase: PhaseStats, low: number, high: number): Promise<void> {
  const { ctx } = state;
  let previous = failedPhase;
  for (let k = 1; k <= ctx.options.stepRefine && !ctx.stopped(); k += 1) {
    const settleEnd = performance.now() + 10_000;
    while (previous.deliveries < previous.expectedDeliveries && performance.now() < settleEnd && !ctx.stopped())
      await sleep(20);
    await sleep(1_000);
    const mid = Math.sqrt(low * high);
    previous = await messagePhase(state, `refine${k}@${Math.round(mid)}`, 'stepup', mid, ctx.options.stepSeconds);
    const verdict = state.extras.get(previous.index)?.verdict;
    if (verdict === 'ok') low = mid;
    else if (verdict === 'generator') return;
    else high = mid;
  }
}

/** Closed-loop `paths/exists` RPCs through the hub to the runners. */
export async function rpcPhase(state: RunState): Promise<void> {
  const { ctx } = state;
  const o = ctx.options;
  const machineIds = state.runners.filter((r) => r.socket?.connected === true).map((r) => r.machineId);
  const { extras } = begin(state, 'rpc', 'rpc');
  if (state.jwt === null || machineIds.length === 0) {
    ctx.stats.error('rpc-no-target');
    extras.verdict = 'errors';
    finish(state, extras);
    return;
  }
  if (!(await waitForRpcReady(ctx, state.jwt, machineIds[0] as string, o.connectTimeoutMs)))
    ctx.stats.error('rpc-never-ready');
  // The readiness probe is not part of the measured window.
  const phase = ctx.stats.current;
  if (phase) {
    phase.rpc.reset();
    phase.rpcOk = 0;
    phase.startedAt = performance.now();
    extras.hubStart = state.sampler.snapshot();
  }
  const end = performance.now() + o.rpcSeconds * 1000;
  await runRpcLoad(ctx, state.jwt, machineIds, o.rpcConcurrency, () => performance.now() >= end);
  finish(state, extras);
  extras.verdict = phase && Object.keys(phase.errors).length === 0 ? 'ok' : 'errors';
}
