// The load generator's own correctness (never speed): a tiny bounded run against an in-process
// hub (memory engine) whose counts must add up, JSON output that parses with the loadtest's own
// schema, the SVG chart, and the loopback-only guard.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoadtestCommand } from '../src/command.js';
import { isLoopbackHost, OptionsError, parseArgv, parseLoadtestOptions } from '../src/options.js';
import { LoadtestResultSchema, type LoadtestResult } from '../src/result-schema.js';
import { startTestHub, type TestHub } from '../../../test/helpers/hub.js';

function capture(): { io: { stdout(t: string): void; stderr(t: string): void }; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { io: { stdout: (t) => (out += t), stderr: (t) => (err += t) }, out: () => out, err: () => err };
}

describe('npm run loadtest against an in-process hub', () => {
  let t: TestHub;
  let dir: string;
  let result: LoadtestResult;
  let code: number;
  let stderr: string;

  beforeAll(async () => {
    // The wall clock (not the helper's manual one): the generator measures real time.
    t = await startTestHub({ clock: () => Date.now() });
    dir = mkdtempSync(join(tmpdir(), 'hapi-loadtest-'));
    const { io, out, err } = capture();
    code = await runLoadtestCommand(
      [
        '--url',
        t.url,
        '--clis',
        '3',
        '--subscribers',
        '1',
        '--session-streams',
        '1',
        '--runners',
        '1',
        '--rest-rate',
        '5',
        '--phases',
        'connect,steady,stepup,rpc,idle',
        '--rate',
        '30',
        '--duration',
        '2',
        '--step-start',
        '20',
        '--step-factor',
        '2',
        '--step-max-steps',
        '2',
        '--step-seconds',
        '1',
        '--step-refine',
        '0',
        '--rpc-seconds',
        '1',
        '--rpc-concurrency',
        '2',
        '--idle-levels',
        '2',
        '--idle-alive-ms',
        '300',
        '--idle-seconds',
        '1',
        // Correctness, not speed: generous bounds so a busy machine cannot fail the checks.
        '--drain-ms',
        '15000',
        '--max-p99-ms',
        '60000',
        '--min-delivery',
        '0',
        '--hub-pids',
        String(process.pid),
        '--max-seconds',
        '60',
        '--chart',
        join(dir, 'chart.svg'),
        '--json',
      ],
      { token: t.token },
      io,
    );
    stderr = err();
    result = LoadtestResultSchema.parse(JSON.parse(out()));
  }, 90_000);

  afterAll(async () => {
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finishes without errors and prints JSON that parses with its own schema', () => {
    expect(code, stderr).toBe(0);
    expect(result.aborted).toBeNull();
    expect(result.summary.errors).toEqual({});
    // One or two step-up steps: whether step 1 passes depends on timing (a stalled machine can
    // fall behind the schedule), which a correctness test does not judge.
    const steps = result.phases.filter((p) => p.kind === 'stepup').map((p) => p.name);
    expect([['step1@20'], ['step1@20', 'step2@40']]).toContainEqual(steps);
    expect(result.phases.map((p) => p.kind)).toEqual([
      'connect',
      'steady',
      ...steps.map(() => 'stepup'),
      'rpc',
      'idle',
    ]);
    // Live progress went to stderr, one line per second.
    expect(stderr).toMatch(/\[\s*\d+s\] /);
  });

  it('counts add up: every sent message reached every stream that should carry it, once', () => {
    const steady = result.phases.find((p) => p.kind === 'steady');
    expect(steady).toBeDefined();
    if (!steady) return;
    expect(steady.sent).toBeGreaterThan(0);
    // All messages were accepted (seen on SSE at least once)…
    expect(steady.accepted).toBe(steady.sent);
    // …and each reached the `all` stream, plus the session stream for CLI 0's share.
    expect(steady.expectedDeliveries).toBeGreaterThan(steady.sent);
    expect(steady.expectedDeliveries).toBeLessThan(2 * steady.sent);
    expect(steady.deliveries).toBe(steady.expectedDeliveries);
    expect(steady.latency.count).toBe(steady.deliveries);
    const steps = result.phases.filter((p) => p.kind === 'stepup');
    for (const step of steps) expect(step.deliveries).toBe(step.expectedDeliveries);
    expect(result.summary.messagesSent).toBe(steady.sent + steps.reduce((sum, p) => sum + p.sent, 0));
    expect(result.summary.deliveries).toBe(result.summary.expectedDeliveries);
  });

  it('measured connections, RPC round-trips, REST and idle heartbeats', () => {
    const connect = result.phases.find((p) => p.kind === 'connect');
    // 3 CLIs + 1 runner sockets.
    expect(connect?.connect.count).toBe(4);
    expect(result.summary.rpc?.count).toBeGreaterThan(0);
    expect(result.phases.find((p) => p.kind === 'steady')?.rest.count).toBeGreaterThan(0);
    const [idle] = result.summary.idle;
    expect(idle).toMatchObject({ level: 2, connected: 2, reached: true });
    expect(idle?.heartbeats).toBeGreaterThan(0);
    // The in-process "hub" pid is this process: its usage was sampled.
    expect(idle?.hubRssBytes).toBeGreaterThan(0);
    expect(result.timeline.length).toBeGreaterThan(0);
  });

  it('writes an SVG chart', () => {
    const svg = readFileSync(join(dir, 'chart.svg'), 'utf8');
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg).toContain('<svg');
    expect(svg).toContain('Throughput');
    expect(svg).toContain('</svg>');
  });
});

describe('the idle phase in generator child processes', () => {
  let t: TestHub;
  let result: LoadtestResult;
  let code: number;
  let stderr: string;

  beforeAll(async () => {
    t = await startTestHub({ clock: () => Date.now() });
    const { io, out, err } = capture();
    code = await runLoadtestCommand(
      [
        '--url',
        t.url,
        '--clis',
        '0',
        '--subscribers',
        '0',
        '--phases',
        'connect,idle',
        // 60 000 is more than this process (the hub here) can hold: the run must stop there, untried.
        '--idle-levels',
        '3,5,60000',
        '--idle-processes',
        '2',
        '--idle-alive-ms',
        '300',
        '--idle-seconds',
        '1',
        '--hub-pids',
        String(process.pid),
        '--max-seconds',
        '60',
        '--json',
        '--quiet',
      ],
      { token: t.token },
      io,
    );
    stderr = err();
    result = LoadtestResultSchema.parse(JSON.parse(out()));
  }, 90_000);

  afterAll(async () => {
    await t?.close();
  });

  it("holds each level across the children, merges their counts and reports each one's CPU", () => {
    expect(code, stderr).toBe(0);
    expect(result.summary.errors).toEqual({});
    const [three, five] = result.summary.idle;
    expect(three).toMatchObject({ level: 3, connected: 3, reached: true, stopReason: null });
    expect(five).toMatchObject({ level: 5, connected: 5, reached: true, stopReason: null });
    expect(five?.heartbeats).toBeGreaterThan(0);
    expect(five?.connectPerS).toBeGreaterThan(0);
    expect(five?.connectP99Ms).toBeGreaterThan(0);
    // The main process plus two children holding 3 + 2 CLIs.
    expect(five?.generator.map((g) => [g.role, g.clis])).toEqual([
      ['main', 0],
      ['child', 3],
      ['child', 2],
    ]);
    expect(result.phases.find((p) => p.name === 'idle-5')?.connect.count).toBe(2);
  });

  it("does not try a level beyond the hub's fd limits, and says so", () => {
    const last = result.summary.idle.at(-1);
    expect(last).toMatchObject({ level: 60_000, reached: false });
    expect(last?.stopReason).toMatch(/^hub fd limit: .* leaves room for \d+ CLIs, not 60000$/);
    expect(result.phases.find((p) => p.name === 'idle-60000')?.connect.count).toBe(0);
  });
});

describe('loadtest options', () => {
  it('refuses non-loopback targets unless --allow-remote', async () => {
    expect(() => parseLoadtestOptions({ url: 'http://10.1.2.3:3006', token: 'x' })).toThrow(OptionsError);
    expect(() => parseLoadtestOptions({ url: 'http://example.com', token: 'x' })).toThrow(/refusing/);
    expect(parseLoadtestOptions({ url: 'http://10.1.2.3:3006', token: 'x', allowRemote: true }).url).toBe(
      'http://10.1.2.3:3006',
    );
    const { io, out, err } = capture();
    const code = await runLoadtestCommand(['--url', 'http://192.0.2.1:3006'], { token: 'x' }, io);
    expect(code).toBe(2);
    expect(err()).toMatch(/refusing to load-test 192\.0\.2\.1/);
    expect(out()).toBe('');
  });

  it('knows loopback', () => {
    for (const host of ['127.0.0.1', '127.255.0.9', 'localhost', '[::1]', '::1'])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['128.0.0.1', '10.0.0.1', '::', 'example.com', '1270.0.0.1'])
      expect(isLoopbackHost(host)).toBe(false);
  });

  it('validates with zod: unknown options, bad values and missing tokens are refused', () => {
    expect(() => parseLoadtestOptions({ token: 'x', bogus: '1' })).toThrow(/unknown option\(s\): --bogus/);
    expect(() => parseLoadtestOptions({ token: 'x', clis: '-1' })).toThrow(/--clis/);
    expect(() => parseLoadtestOptions({})).toThrow(/token/);
    expect(() => parseLoadtestOptions({ token: 'x', phases: 'rpc' })).toThrow(/--runners/);
    expect(parseArgv(['--json', '--clis', '5', '--step-factor=2'])).toEqual({ json: true, clis: '5', stepFactor: '2' });
    const o = parseLoadtestOptions({
      token: 'x',
      ...parseArgv(['--phases', 'connect,stepup', '--idle-levels', '1,2']),
    });
    expect(o.phases).toEqual(['connect', 'stepup']);
    expect(o.idleLevels).toEqual([1, 2]);
  });
});
