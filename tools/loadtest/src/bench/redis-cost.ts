// `npm run bench:redis-cost`: the Redis work behind one keep-alive and one CLI message, counted
// exactly (INFO commandstats deltas: commands run by scripts included) together with the CPU the
// hub processes and redis-server spent, over a fixed window of steady load on the bench's own
// `redis` / `redis2` targets (a fresh Redis each, AOF everysec). These are the per-unit figures the README's cost model and BENCHMARKS.md's fleet projection use.
//
// Counts do not depend on machine load; CPU figures do (the load average is printed with them).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { LoadtestOptionsSchema } from '../options.js';
import { sampleProcesses } from '../proc-stats.js';
import { redisInfo } from '../redis-info.js';
import { runLoadtest } from '../run.js';
import { launcherFor, prepareOurs, type RunningTarget } from './targets.js';

export const RedisCostOptionsSchema = z.object({
  /** Hub worker counts to measure: 1 is the bench's `redis` target, 2 its `redis2`. */
  workers: z
    .union([z.string(), z.number()])
    .transform((v) => String(v).split(',').map(Number))
    .pipe(z.array(z.number().int().min(1).max(2)).min(1))
    .default([1, 2]),
  idleClis: z.coerce.number().int().min(10).max(15_000).default(1_000),
  aliveMs: z.coerce.number().int().min(100).max(60_000).default(2_000),
  windowSeconds: z.coerce.number().min(2).max(300).default(20),
  messageClis: z.coerce.number().int().min(1).max(200).default(10),
  messageRate: z.coerce.number().min(1).max(10_000).default(200),
});
export type RedisCostOptions = z.infer<typeof RedisCostOptionsSchema>;

/** What one window cost, per unit (a keep-alive or a message). */
export interface UnitCost {
  unit: 'keep-alive' | 'message';
  workers: number;
  units: number;
  windowS: number;
  /** Every command Redis executed, scripts' own commands included, per unit. */
  commandsPerUnit: number;
  /** Script invocations (EVALSHA/EVAL) per unit: each is one client round trip. */
  scriptsPerUnit: number;
  publishesPerUnit: number;
  /** The commands behind commandsPerUnit, largest first. */
  byCommand: { command: string; perUnit: number }[];
  hubCpuMsPerUnit: number;
  redisCpuMsPerUnit: number;
  loadAverage: number[];
}

interface Snapshot {
  at: number;
  commands: Map<string, number>;
  redisCpuMs: number;
  hubCpuMs: number;
  events: Map<string, number>;
}

export async function runRedisCost(
  options: RedisCostOptions,
  env: { repoRoot: string; baseEnv: NodeJS.ProcessEnv; log(line: string): void },
): Promise<UnitCost[]> {
  const ours = prepareOurs(env.repoRoot, env.log);
  if (ours.note) env.log(ours.note);
  const workDir = mkdtempSync(join(tmpdir(), 'hapi-redis-cost-'));
  const ctx = { ours, repoRoot: env.repoRoot, workDir, baseEnv: env.baseEnv, log: env.log };
  const results: UnitCost[] = [];
  try {
    for (const workers of options.workers) {
      const launcher = launcherFor(workers === 1 ? 'redis' : 'redis2', ctx);
      if (launcher.unavailable) throw new Error(launcher.unavailable);
      const target = await launcher.start(`cost-${workers}`);
      try {
        const hub = costHub(target);
        results.push(await measureKeepAlives(hub, workers, options, env.log));
        results.push(await measureMessages(hub, workers, options, env.log));
      } finally {
        await target.stop();
      }
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  return results;
}

/** What a window needs of a bench target: the hub process tree first, then its redis-server. */
interface CostHub {
  url: string;
  token: string;
  metricsUrl: string;
  redisUrl: string;
  hubPid: number;
}

function costHub(target: RunningTarget): CostHub {
  const [hubPid] = target.pids;
  if (!target.redisUrl || !target.metricsUrl || hubPid === undefined)
    throw new Error('a redis-cost target needs its Redis, its metrics listener and its hub pid');
  return { url: target.url, token: target.token, metricsUrl: target.metricsUrl, redisUrl: target.redisUrl, hubPid };
}

async function measureKeepAlives(
  hub: CostHub,
  workers: number,
  options: RedisCostOptions,
  log: (line: string) => void,
): Promise<UnitCost> {
  const settleMs = 2 * options.aliveMs;
  const loadtest = LoadtestOptionsSchema.parse({
    url: hub.url,
    token: hub.token,
    namespace: `cost-idle-${workers}`,
    phases: ['connect', 'idle'],
    clis: 0,
    subscribers: 0,
    idleLevels: [options.idleClis],
    idleAliveMs: options.aliveMs,
    // Ramp + settle + window, with room to spare; the window is taken inside it.
    idleSeconds: settleMs / 1000 + options.windowSeconds + 10,
    quiet: true,
    maxSeconds: 600,
  });
  log(`keep-alives, ${workers} worker(s): ${options.idleClis} idle CLIs every ${options.aliveMs} ms`);
  const run = runLoadtest(loadtest);
  const connected = await waitFor(
    async () => (await metric(hub.metricsUrl, 'hapi_cli_connections')) >= options.idleClis,
    240_000,
  );
  if (!connected)
    throw new Error(`the idle CLIs did not all connect (${await metric(hub.metricsUrl, 'hapi_cli_connections')})`);
  await delay(settleMs);
  const cost = await measureWindow(hub, options.windowSeconds, 'session-alive', 'keep-alive', workers);
  await run;
  return cost;
}

async function measureMessages(
  hub: CostHub,
  workers: number,
  options: RedisCostOptions,
  log: (line: string) => void,
): Promise<UnitCost> {
  const loadtest = LoadtestOptionsSchema.parse({
    url: hub.url,
    token: hub.token,
    namespace: `cost-messages-${workers}`,
    phases: ['connect', 'steady'],
    clis: options.messageClis,
    subscribers: 1,
    rate: options.messageRate,
    duration: options.windowSeconds + 6,
    quiet: true,
    maxSeconds: 600,
  });
  log(`messages, ${workers} worker(s): ${options.messageClis} CLIs at ${options.messageRate} msg/s, 1 SSE subscriber`);
  const before = await metric(hub.metricsUrl, 'hapi_cli_events_in_total', 'message');
  const run = runLoadtest(loadtest);
  const flowing = await waitFor(
    async () => (await metric(hub.metricsUrl, 'hapi_cli_events_in_total', 'message')) > before + options.messageRate,
    120_000,
  );
  if (!flowing) throw new Error('no messages reached the hub');
  const cost = await measureWindow(hub, options.windowSeconds, 'message', 'message', workers);
  await run;
  return cost;
}

async function measureWindow(
  hub: CostHub,
  windowSeconds: number,
  event: string,
  unit: UnitCost['unit'],
  workers: number,
): Promise<UnitCost> {
  const first = await snapshot(hub);
  await delay(windowSeconds * 1000);
  const last = await snapshot(hub);
  const units = (last.events.get(event) ?? 0) - (first.events.get(event) ?? 0);
  const per = (n: number): number => (units > 0 ? n / units : 0);
  const deltas = new Map<string, number>();
  for (const [command, calls] of last.commands) {
    const delta = calls - (first.commands.get(command) ?? 0);
    if (delta > 0) deltas.set(command, delta);
  }
  const total = [...deltas.values()].reduce((a, b) => a + b, 0);
  const scripts = (deltas.get('evalsha') ?? 0) + (deltas.get('eval') ?? 0);
  return {
    unit,
    workers,
    units,
    windowS: (last.at - first.at) / 1000,
    commandsPerUnit: per(total),
    scriptsPerUnit: per(scripts),
    publishesPerUnit: per(deltas.get('publish') ?? 0),
    byCommand: [...deltas]
      .map(([command, calls]) => ({ command, perUnit: per(calls) }))
      .sort((a, b) => b.perUnit - a.perUnit),
    hubCpuMsPerUnit: per(last.hubCpuMs - first.hubCpuMs),
    redisCpuMsPerUnit: per(last.redisCpuMs - first.redisCpuMs),
    loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

async function snapshot(hub: CostHub): Promise<Snapshot> {
  const [stats, cpu, metricsText] = await Promise.all([
    redisInfo(hub.redisUrl, 'commandstats'),
    redisInfo(hub.redisUrl, 'cpu'),
    fetch(hub.metricsUrl).then((r) => r.text()),
  ]);
  if (stats === null || cpu === null) throw new Error('Redis did not answer INFO');
  const commands = new Map<string, number>();
  for (const match of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) commands.set(match[1] ?? '', Number(match[2]));
  const cpuField = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpu)?.[1] ?? 0);
  const events = new Map<string, number>();
  for (const match of metricsText.matchAll(/^hapi_cli_events_in_total\{event="([^"]+)"\} (\d+)/gm))
    events.set(match[1] ?? '', Number(match[2]));
  const at = performance.now();
  return {
    at,
    commands,
    redisCpuMs: (cpuField('used_cpu_sys') + cpuField('used_cpu_user')) * 1000,
    hubCpuMs: sampleProcesses([hub.hubPid], at).cpuMs,
    events,
  };
}

async function metric(url: string, name: string, event?: string): Promise<number> {
  const text = await fetch(url)
    .then((r) => r.text())
    .catch(() => '');
  const pattern = event
    ? new RegExp(`^${name}\\{event="${event}"\\} (\\d+)`, 'm')
    : new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'm');
  return Number(pattern.exec(text)?.[1] ?? 0);
}

/** Polls a condition (a bench waits on a hub it does not control; bounded by `timeoutMs`). */
async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await delay(250);
  }
  return false;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function formatUnitCosts(costs: readonly UnitCost[]): string {
  const rows = costs.map((c) => {
    const top = c.byCommand
      .slice(0, 6)
      .map((b) => `${b.command} ${b.perUnit.toFixed(2)}`)
      .join(', ');
    return `| ${c.unit} | ×${c.workers} | ${c.units} | ${c.commandsPerUnit.toFixed(2)} | ${c.scriptsPerUnit.toFixed(2)} | ${c.publishesPerUnit.toFixed(2)} | ${c.hubCpuMsPerUnit.toFixed(3)} | ${c.redisCpuMsPerUnit.toFixed(3)} | ${c.loadAverage[0]} | ${top} |`;
  });
  return [
    '| per | workers | units in window | Redis commands | scripts (round trips) | PUBLISH | hub CPU ms | Redis CPU ms | load (1 min) | largest commands per unit |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows,
  ].join('\n');
}
