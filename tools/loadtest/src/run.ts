// One load-test run: sets up the simulated clients, runs the requested phases in order (connect
// always first), tears everything down and returns the result (validated against its schema).
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { SimContext } from './context.js';
import { assertLoopbackTarget, type LoadtestOptions } from './options.js';
import { idlePhase } from './idle-phase.js';
import { connectPhase, rpcPhase, stepupPhase, steadyPhase, type PhaseExtras, type RunState } from './phases.js';
import { LoadtestResultSchema, RESULT_SCHEMA_ID, type LoadtestResult, type PhaseResult } from './result-schema.js';
import { Sampler } from './sampler.js';
import { RunStats, type PhaseStats } from './stats.js';

export interface RunHooks {
  /** One line per second while running (the CLI writes it to stderr). */
  progress?: (line: string) => void;
}

const round = (v: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

function phaseResult(phase: PhaseStats, extras: PhaseExtras | undefined, sampler: Sampler): PhaseResult {
  const endedAt = phase.endedAt || performance.now();
  const durationS = Math.max(0.001, (endedAt - phase.startedAt) / 1000);
  const perS = (n: number): number => round(n / durationS);
  const hubStart = extras?.hubStart?.proc ?? null;
  const hubEnd = extras?.hubEnd?.proc ?? null;
  const lt =
    extras?.hubStart && extras.hubEnd
      ? ((extras.hubEnd.selfCpuMs - extras.hubStart.selfCpuMs) / Math.max(1, extras.hubEnd.at - extras.hubStart.at)) *
        100
      : 0;
  return {
    name: phase.name,
    kind: phase.kind,
    startS: round(Math.max(0, sampler.elapsedS(phase.startedAt))),
    durationS: round(durationS, 3),
    targetRate: phase.targetRate,
    sent: phase.sent,
    sentPerS: perS(phase.sent),
    accepted: phase.accepted,
    acceptedPerS: perS(phase.accepted),
    expectedDeliveries: phase.expectedDeliveries,
    deliveries: phase.deliveries,
    deliveriesPerS: perS(phase.deliveries),
    deliveryRatio: phase.expectedDeliveries === 0 ? 1 : round(phase.deliveries / phase.expectedDeliveries, 4),
    latency: phase.latency.summary(),
    heartbeats: phase.heartbeats,
    connect: {
      ...phase.connect.summary(),
      perS: phase.rampMs > 0 ? round(phase.connected / (phase.rampMs / 1000)) : perS(phase.connected),
    },
    sessionCreate: phase.sessionCreate.summary(),
    rpc: { ...phase.rpc.summary(), perS: perS(phase.rpcOk) },
    rest: { ...phase.rest.summary(), perS: perS(phase.restOk) },
    errors: { ...phase.errors },
    hub:
      hubStart && hubEnd
        ? {
            cpuMs: round(Math.max(0, hubEnd.cpuMs - hubStart.cpuMs)),
            cpuPercent: round(
              Math.max(0, ((hubEnd.cpuMs - hubStart.cpuMs) / Math.max(1, hubEnd.at - hubStart.at)) * 100),
              1,
            ),
            rssBytes: hubEnd.rssBytes,
            rssStartBytes: hubStart.rssBytes,
            byPid: hubEnd.roots.map((r) => {
              const before = hubStart.roots.find((s) => s.pid === r.pid);
              return {
                pid: r.pid,
                name: r.name,
                cpuMs: round(Math.max(0, r.cpuMs - (before?.cpuMs ?? 0))),
                rssBytes: r.rssBytes,
                processes: r.processes,
              };
            }),
          }
        : null,
    loadtestCpuPercent: round(Math.max(0, lt), 1),
    verdict: extras?.verdict ?? null,
    idle: extras?.idle ?? null,
  };
}

export async function runLoadtest(options: LoadtestOptions, hooks: RunHooks = {}): Promise<LoadtestResult> {
  // Also checked when the options were parsed; repeated here for callers that build them in code.
  assertLoopbackTarget(options.url, options.allowRemote);
  const startedAt = new Date();
  const started = performance.now();
  const selfStart = process.cpuUsage();
  const stats = new RunStats();
  let stopped = false;
  let aborted: string | null = null;
  const ctx: SimContext = {
    options,
    url: options.url.replace(/\/+$/, ''),
    token: options.namespace !== undefined ? `${options.token}:${options.namespace}` : options.token,
    runId: randomBytes(6).toString('hex'),
    stats,
    stopped: () => stopped,
  };
  const sampler = new Sampler(
    ctx,
    options.hubPids,
    options.quiet ? undefined : hooks.progress,
    Math.ceil(options.maxSeconds) + 60,
  );
  const state: RunState = {
    ctx,
    sampler,
    clis: [],
    idleClis: [],
    runners: [],
    streams: [],
    jwt: null,
    allStreams: 0,
    extras: new Map(),
    stepupStop: null,
  };
  const hardStop = setTimeout(() => {
    aborted ??= `--max-seconds ${options.maxSeconds} reached`;
    stopped = true;
  }, options.maxSeconds * 1000);

  sampler.start();
  try {
    await connectPhase(state);
    const connected = state.clis.filter((c) => c.socket !== null).length;
    const messagePhases = options.phases.some((p) => p === 'steady' || p === 'stepup');
    if (messagePhases && connected === 0) aborted = 'no CLI could connect';
    else if (messagePhases && options.subscribers > 0 && state.allStreams === 0)
      aborted = 'no SSE subscriber could connect';
    for (const kind of options.phases) {
      if (aborted !== null || stopped) break;
      if (kind === 'connect') continue;
      if (kind === 'steady') await steadyPhase(state);
      else if (kind === 'stepup') await stepupPhase(state);
      else if (kind === 'idle') await idlePhase(state);
      else await rpcPhase(state);
    }
  } finally {
    stats.endPhase(performance.now());
    stopped = true;
    clearTimeout(hardStop);
    sampler.stop();
    for (const cli of [...state.clis, ...state.idleClis]) cli.close();
    for (const runner of state.runners) runner.close();
    for (const stream of state.streams) stream.close();
  }

  const phases = stats.phases.map((p) => phaseResult(p, state.extras.get(p.index), sampler));
  const steps = phases.filter((p) => p.kind === 'stepup');
  const passing = steps.filter((p) => p.verdict === 'ok');
  const best = passing.reduce<PhaseResult | null>(
    (a, p) => (a === null || p.acceptedPerS > a.acceptedPerS ? p : a),
    null,
  );
  const rpc = phases.find((p) => p.kind === 'rpc' && p.rpc.count > 0);
  const self = process.cpuUsage(selfStart);
  const wallMs = performance.now() - started;
  const result: LoadtestResult = {
    schema: RESULT_SCHEMA_ID,
    runId: ctx.runId,
    url: ctx.url,
    startedAt: startedAt.toISOString(),
    durationS: round(wallMs / 1000),
    aborted,
    config: {
      clis: options.clis,
      runners: options.runners,
      subscribers: options.subscribers,
      sessionStreams: options.sessionStreams,
      transport: options.transport,
      aliveMs: options.aliveMs,
      payloadBytes: options.payloadBytes,
      phases: options.phases,
      hubPids: options.hubPids,
    },
    phases,
    timeline: sampler.timeline,
    summary: {
      messagesSent: stats.messagesSent,
      deliveries: phases.reduce((s, p) => s + p.deliveries, 0),
      expectedDeliveries: phases.reduce((s, p) => s + p.expectedDeliveries, 0),
      errors: { ...stats.totalErrors },
      errorCount: Object.values(stats.totalErrors).reduce((s, n) => s + n, 0),
      maxSustained: best
        ? {
            step: best.name,
            targetRate: best.targetRate ?? 0,
            acceptedPerS: best.acceptedPerS,
            deliveriesPerS: best.deliveriesPerS,
            p99: best.latency.p99,
            hubCpuPercent: best.hub?.cpuPercent ?? null,
          }
        : null,
      stepupStop: steps.length > 0 ? state.stepupStop : null,
      rpc: rpc ? { perS: rpc.rpc.perS, p50: rpc.rpc.p50, p99: rpc.rpc.p99, count: rpc.rpc.count } : null,
      idle: phases.flatMap((p) => (p.idle ? [p.idle] : [])),
      loadtestCpuMs: round((self.user + self.system) / 1000),
      loadtestCpuPercent: round(((self.user + self.system) / 1000 / Math.max(1, wallMs)) * 100, 1),
    },
  };
  return LoadtestResultSchema.parse(result);
}
