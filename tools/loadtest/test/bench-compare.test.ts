// The bench's comparison arithmetic on synthetic runs: metric extraction, ratios both ways, the
// issue's goals, options parsing, and the CPU-profile summary. No hubs are started here.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildRows, checkGoals, comparisonTable, ratio, type BenchRun } from '../src/bench/compare.js';
import { summariseProfiles } from '../src/bench/cpuprofile.js';
import { BENCH_USAGE, BenchOptionsSchema, parseBenchArgv, profileOptions } from '../src/bench/options.js';
import { IdleFleet, sourceAddressFor } from '../src/idle-fleet.js';
import { parseLoadtestOptions } from '../src/options.js';
import { LoadtestResultSchema, type LoadtestResult, type PhaseResult } from '../src/result-schema.js';

const zeroLatency = { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };

function phase(name: string, kind: PhaseResult['kind'], extra: Partial<PhaseResult> = {}): PhaseResult {
  return {
    name,
    kind,
    startS: 0,
    durationS: 4,
    targetRate: null,
    sent: 0,
    sentPerS: 0,
    accepted: 0,
    acceptedPerS: 0,
    expectedDeliveries: 0,
    deliveries: 0,
    deliveriesPerS: 0,
    deliveryRatio: 1,
    latency: zeroLatency,
    heartbeats: 0,
    connect: { ...zeroLatency, perS: 0 },
    sessionCreate: zeroLatency,
    rpc: { ...zeroLatency, perS: 0 },
    rest: { ...zeroLatency, perS: 0 },
    errors: {},
    hub: null,
    loadtestCpuPercent: 0,
    verdict: null,
    idle: null,
    ...extra,
  };
}

function ingestResult(steps: { rate: number; ok: boolean; cpuMs: number }[]): LoadtestResult {
  const phases = steps.map((s, i) =>
    phase(`step${i + 1}@${s.rate}`, 'stepup', {
      targetRate: s.rate,
      sent: s.rate * 4,
      accepted: s.rate * 4,
      acceptedPerS: s.rate,
      deliveries: s.rate * 4,
      deliveriesPerS: s.rate,
      verdict: s.ok ? 'ok' : 'p99',
      latency: { ...zeroLatency, count: s.rate * 4, p50: 1, p99: s.ok ? 10 : 2_000 },
      hub: { cpuMs: s.cpuMs, cpuPercent: s.cpuMs / 40, rssBytes: 1, rssStartBytes: 1, byPid: [] },
    }),
  );
  const best = [...phases].reverse().find((p) => p.verdict === 'ok');
  return LoadtestResultSchema.parse({
    schema: 'hapi-loadtest/1',
    runId: 'r',
    url: 'http://127.0.0.1:1',
    startedAt: new Date(0).toISOString(),
    durationS: 1,
    aborted: null,
    config: {
      clis: 10,
      runners: 0,
      subscribers: 1,
      sessionStreams: 0,
      transport: 'websocket',
      aliveMs: 2000,
      payloadBytes: 256,
      phases: ['connect', 'stepup'],
      hubPids: [],
    },
    phases,
    timeline: [],
    summary: {
      messagesSent: 0,
      deliveries: 0,
      expectedDeliveries: 0,
      errors: {},
      errorCount: 0,
      maxSustained: best
        ? {
            step: best.name,
            targetRate: best.targetRate ?? 0,
            acceptedPerS: best.acceptedPerS,
            deliveriesPerS: best.deliveriesPerS,
            p99: best.latency.p99,
            hubCpuPercent: null,
          }
        : null,
      stepupStop: 'p99',
      rpc: null,
      idle: [],
      loadtestCpuMs: 0,
      loadtestCpuPercent: 0,
    },
  });
}

const run = (target: BenchRun['target'], result: LoadtestResult): BenchRun => ({
  target,
  profile: 'ingest',
  status: 'ok',
  reason: null,
  loadAverage: [1],
  result,
});

describe('bench comparison', () => {
  const runs: BenchRun[] = [
    run(
      'upstream',
      ingestResult([
        { rate: 100, ok: true, cpuMs: 400 },
        { rate: 200, ok: false, cpuMs: 800 },
      ]),
    ),
    run(
      'memory',
      ingestResult([
        { rate: 100, ok: true, cpuMs: 100 },
        { rate: 200, ok: true, cpuMs: 150 },
        { rate: 400, ok: true, cpuMs: 250 },
        { rate: 800, ok: false, cpuMs: 500 },
      ]),
    ),
    {
      target: 'redis',
      profile: 'ingest',
      status: 'skipped',
      reason: 'redis-server is not installed',
      loadAverage: [1],
      result: null,
    },
  ];
  const rows = buildRows(runs, ['ingest']);

  it('extracts the max sustained rate and CPU per message at the highest step every run passed', () => {
    const rate = rows.find((r) => r.key === 'ingest-rate');
    expect(rate?.values).toEqual({ upstream: 100, memory: 400, redis: null });
    expect(rate?.notes.redis).toMatch(/skipped/);
    const cpu = rows.find((r) => r.key === 'ingest-cpu-per-msg');
    expect(cpu?.label).toContain('step1@100');
    expect(cpu?.values.upstream).toBe(1);
    expect(cpu?.values.memory).toBe(0.25);
  });

  it('computes ratios both ways and checks the goals', () => {
    expect(ratio(400, 100)).toBe(4);
    expect(ratio(-3, 100)).toBeNull();
    expect(ratio(1, 0)).toBeNull();
    const goals = checkGoals(rows, ['upstream', 'memory', 'redis']);
    expect(goals.find((g) => g.goal === 'ingest msg/s' && g.target === 'memory')).toMatchObject({
      measured: '4.00×',
      met: false,
    });
    expect(goals.find((g) => g.goal === 'ingest msg/s' && g.target === 'redis')).toMatchObject({
      measured: 'n/a',
      met: null,
    });
    const table = comparisonTable(rows, ['upstream', 'memory', 'redis'], true);
    expect(table).toContain('memory ÷ up');
    expect(table).toContain('up ÷ memory');
    expect(table).toContain('4.00×');
    expect(table).toContain('0.25×');
  });
});

describe('bench options and profiles', () => {
  it('parses with zod and refuses unknown options', () => {
    expect(parseBenchArgv(['--quick', '--targets', 'memory,redis']).targets).toEqual(['memory', 'redis']);
    expect(() => parseBenchArgv(['--targets', 'nope'])).toThrow();
    expect(() => parseBenchArgv(['--bogus'])).toThrow(/unknown bench option/);
  });

  it('--help names every option the parser accepts', () => {
    const kebab = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    const missing = Object.keys(BenchOptionsSchema.shape)
      .map(kebab)
      .filter((option) => !BENCH_USAGE.includes(`${option} `));
    expect(missing).toEqual([]);
  });

  it('every profile in both modes is a valid, bounded loadtest configuration', () => {
    for (const quick of [true, false]) {
      for (const profile of ['ingest', 'fanout', 'capacity', 'rpc'] as const) {
        const o = parseLoadtestOptions({ ...profileOptions(profile, quick), token: 't', url: 'http://127.0.0.1:1' });
        // The capacity ramp to 50 000 CLIs is allowed a slower connect rate on a busy machine.
        expect(o.maxSeconds).toBeLessThanOrEqual(profile === 'capacity' ? 1_500 : 600);
        if (o.phases.includes('stepup')) expect(o.stepMaxSteps).toBeLessThanOrEqual(16);
      }
    }
    // Up to 50,000 idle CLIs at the real CLI's keep-alive interval.
    expect(profileOptions('capacity', false).idleLevels).toEqual([1_000, 5_000, 10_000, 18_000, 35_000, 50_000]);
    // Spread over generator processes of at most 15 000 CLIs each (fd limit, ephemeral ports).
    expect(profileOptions('capacity', false).idleProcesses).toBe(4);
    expect(profileOptions('capacity', true).idleProcesses).toBe(1);
    expect(profileOptions('capacity', false).idleAliveMs).toBe(2_000);
    expect(profileOptions('capacity', false, [1_000, 3_000]).idleLevels).toEqual([1_000, 3_000]);
  });
});

describe('CPU profile summary', () => {
  it('aggregates self time by function and module, cut to a time window', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpuprofile-'));
    try {
      const frame = (functionName: string, url: string) => ({
        functionName,
        url,
        lineNumber: 0,
        columnNumber: 0,
        scriptId: '0',
      });
      const profile = {
        nodes: [
          { id: 1, callFrame: frame('(root)', ''), children: [2, 3, 4] },
          { id: 2, callFrame: frame('appendFromCli', 'file:///repo/dist/services/messages.js'), children: [] },
          { id: 3, callFrame: frame('encode', 'file:///repo/node_modules/socket.io-parser/index.js'), children: [] },
          { id: 4, callFrame: frame('(idle)', ''), children: [] },
        ],
        startTime: 1_000_000,
        endTime: 1_000_000 + 5_000,
        // 1 ms apart: 2, 2, 3, 4, 2
        samples: [2, 2, 3, 4, 2, 2],
        timeDeltas: [0, 1_000, 1_000, 1_000, 1_000, 1_000],
      };
      const file = join(dir, 'a.cpuprofile');
      writeFileSync(file, JSON.stringify(profile));
      const all = summariseProfiles([file]);
      expect(all.busyMs).toBe(4);
      expect(all.byModule.find((m) => m.module === 'src/services')?.selfMs).toBe(3);
      expect(all.byModule.find((m) => m.module === 'socket.io-parser')?.selfMs).toBe(1);
      expect(all.ownInclusive[0]?.name).toBe('appendFromCli src/services/messages.js:1');
      const cut = summariseProfiles([file], 10, { fromUs: 1_002_500, toUs: 1_010_000 });
      expect(cut.totalMs).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('idle fleet layout', () => {
  it('spreads a level evenly over the generator processes', () => {
    expect(IdleFleet.shares(5, 2)).toEqual([3, 2]);
    expect(IdleFleet.shares(50_000, 4)).toEqual([12_500, 12_500, 12_500, 12_500]);
    expect(IdleFleet.shares(1, 3)).toEqual([1, 0, 0]);
  });

  it('gives each child its own IPv4 loopback source address, and none for other hosts', () => {
    expect(sourceAddressFor('http://127.0.0.1:3006', 0)).toBe('127.0.0.2');
    expect(sourceAddressFor('http://127.0.0.1:3006', 3)).toBe('127.0.0.5');
    expect(sourceAddressFor('http://[::1]:3006', 0)).toBeNull();
    expect(sourceAddressFor('http://localhost:3006', 0)).toBeNull();
  });
});
