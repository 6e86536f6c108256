// `npm run loadtest` options: a tiny `--key value` / `--flag` argv reader, then one zod schema
// that validates and defaults everything. The rest of the load generator only sees the parsed
// `LoadtestOptions`, never raw strings.
import { z } from 'zod';

export const PHASE_KINDS = ['connect', 'steady', 'stepup', 'idle', 'rpc'] as const;
export type PhaseKind = (typeof PHASE_KINDS)[number];

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const num = (min: number, max: number) => z.coerce.number().min(min).max(max);
/** `--flag` alone means true; `--flag false|0|no` means false. */
const flag = z
  .union([z.boolean(), z.string()])
  .transform((v) => (typeof v === 'boolean' ? v : !['false', '0', 'no', 'off'].includes(v.toLowerCase())))
  .default(false);
const intList = (min: number, max: number) =>
  z
    .union([z.string(), z.array(z.coerce.number())])
    .transform((v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .filter((s) => s.trim() !== '')
            .map((s) => Number(s.trim()))
        : v,
    )
    .pipe(z.array(z.number().int().min(min).max(max)).max(32));

export const LoadtestOptionsSchema = z
  .object({
    url: z.string().url().default('http://127.0.0.1:3006'),
    token: z.string().min(1, 'a CLI access token is needed (--token, or CLI_API_TOKEN in the environment)'),
    /** Appended to the token as `base:namespace` (upstream grammar); isolates a run's events. */
    namespace: z
      .string()
      .regex(/^[A-Za-z0-9_.@-]{1,128}$/)
      .optional(),
    allowRemote: flag,

    phases: z
      .union([z.string(), z.array(z.enum(PHASE_KINDS))])
      .transform((v) =>
        typeof v === 'string'
          ? v
              .split(',')
              .map((s) => s.trim())
              .filter((s) => s !== '')
          : v,
      )
      .pipe(z.array(z.enum(PHASE_KINDS)).min(1))
      .default(['connect', 'steady']),

    // CLI sessions
    clis: int(0, 20_000).default(10),
    transport: z.enum(['websocket', 'polling', 'mixed']).default('websocket'),
    aliveMs: int(100, 120_000).default(2_000),
    payloadBytes: int(0, 1_000_000).default(256),
    connectRate: num(1, 100_000).default(500),
    connectConcurrency: int(1, 2_000).default(64),
    connectTimeoutMs: int(100, 120_000).default(15_000),

    // Runner machines
    runners: int(0, 1_000).default(0),
    machineAliveMs: int(100, 120_000).default(20_000),

    // Web subscribers
    subscribers: int(0, 1_000).default(1),
    /** Per-session SSE streams for the first N CLI sessions (in addition to the `all` streams). */
    sessionStreams: int(0, 20_000).default(0),
    /** Background REST traffic during message phases (session list, message pages, paths/exists). */
    restRate: num(0, 10_000).default(0),

    // steady
    rate: num(0, 1_000_000).default(100),
    duration: num(0.5, 3_600).default(10),

    // stepup
    stepStart: num(1, 1_000_000).default(200),
    stepFactor: num(1.05, 10).default(1.5),
    stepSeconds: num(0.5, 600).default(5),
    stepMaxRate: num(1, 1_000_000).default(100_000),
    stepMaxSteps: int(1, 64).default(16),
    /** Bisection tries between the last passing and the first failing step. */
    stepRefine: int(0, 8).default(2),
    /** A step fails when its e2e p99 reaches this. */
    maxP99Ms: num(1, 600_000).default(1_000),
    minDelivery: num(0, 1).default(0.98),
    /** After a message phase: how long to wait for late SSE deliveries before counting. */
    drainMs: int(0, 60_000).default(2_000),

    // idle capacity
    idleLevels: intList(1, 100_000).default([]),
    idleAliveMs: int(100, 120_000).default(5_000),
    idleSeconds: num(1, 3_600).default(15),
    /**
     * Generator child processes holding the idle CLIs (0: this process holds them). One process
     * holds at most its fd limit in sockets; each child also gets its own loopback source address.
     */
    idleProcesses: int(0, 16).default(0),
    /** The hub's Redis, to report its memory per idle session (optional). */
    redisUrl: z.string().url().optional(),

    // rpc
    rpcConcurrency: int(1, 1_000).default(8),
    rpcSeconds: num(0.5, 3_600).default(10),
    rpcTimeoutMs: int(100, 120_000).default(10_000),

    // measurement and output
    hubPids: intList(1, 2 ** 31).default([]),
    json: flag,
    out: z.string().min(1).optional(),
    chart: z.string().min(1).optional(),
    quiet: flag,
    /** Hard cap on the whole run; every phase also stops at its own deadline. */
    maxSeconds: num(1, 24 * 3_600).default(900),
    /** Cap on messages emitted over the whole run (bounds memory of the delivery bookkeeping). */
    maxMessages: int(1, 50_000_000).default(5_000_000),
  })
  .superRefine((o, ctx) => {
    if (o.phases.includes('rpc') && o.runners === 0)
      ctx.addIssue({ code: 'custom', path: ['runners'], message: 'the rpc phase needs --runners ≥ 1' });
    if (o.phases.includes('idle') && o.idleLevels.length === 0)
      ctx.addIssue({ code: 'custom', path: ['idleLevels'], message: 'the idle phase needs --idle-levels N[,N…]' });
    if ((o.phases.includes('steady') || o.phases.includes('stepup')) && o.clis === 0) {
      ctx.addIssue({ code: 'custom', path: ['clis'], message: 'message phases need --clis ≥ 1' });
    }
    if (o.sessionStreams > o.clis)
      ctx.addIssue({ code: 'custom', path: ['sessionStreams'], message: '--session-streams cannot exceed --clis' });
    const sorted = [...o.idleLevels].sort((a, b) => a - b);
    if (sorted.some((v, i) => v !== o.idleLevels[i]))
      ctx.addIssue({ code: 'custom', path: ['idleLevels'], message: 'levels must be ascending' });
  });

export type LoadtestOptions = z.infer<typeof LoadtestOptionsSchema>;
export type LoadtestOptionsInput = z.input<typeof LoadtestOptionsSchema>;

export class OptionsError extends Error {}

const camel = (name: string): string => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * `--key value`, `--key=value` and bare `--flag` (true when the next token is another option or
 * absent). Positional arguments are refused: every option has a name.
 */
export function parseArgv(argv: readonly string[]): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new OptionsError(`unexpected argument: ${arg}`);
    const eq = arg.indexOf('=');
    if (eq !== -1) {
      out[camel(arg.slice(2, eq))] = arg.slice(eq + 1);
      continue;
    }
    const key = camel(arg.slice(2));
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[key] = true;
    else {
      out[key] = next;
      i += 1;
    }
  }
  return out;
}

const KNOWN_KEYS = new Set(Object.keys(LoadtestOptionsSchema.shape));

/** Parses raw options (argv-shaped or already typed); throws OptionsError with every issue. */
export function parseLoadtestOptions(raw: Record<string, unknown>): LoadtestOptions {
  const unknown = Object.keys(raw).filter((k) => !KNOWN_KEYS.has(k));
  if (unknown.length > 0)
    throw new OptionsError(
      `unknown option(s): ${unknown.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`,
    );
  const parsed = LoadtestOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) =>
        `  --${issue.path
          .map(String)
          .join('.')
          .replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${issue.message}`,
    );
    throw new OptionsError(`invalid loadtest options:\n${lines.join('\n')}`);
  }
  assertLoopbackTarget(parsed.data.url, parsed.data.allowRemote);
  return parsed.data;
}

/** True for 127.0.0.0/8, ::1 and `localhost` (which resolves to loopback by convention). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host.replace(/^::ffff:/, ''));
  if (v4 === null) return false;
  return v4.slice(1).every((o) => Number(o) <= 255) && v4[1] === '127';
}

/** A load test aimed at someone else's machine by mistake is a denial of service: refuse it. */
export function assertLoopbackTarget(url: string, allowRemote: boolean): void {
  const { hostname } = new URL(url);
  if (!allowRemote && !isLoopbackHost(hostname)) {
    throw new OptionsError(
      `refusing to load-test ${hostname}: only loopback targets (127.0.0.0/8, ::1, localhost) unless --allow-remote`,
    );
  }
}

export const LOADTEST_USAGE = `usage: npm run loadtest -- [options]
       --url and --token default to the hub's environment (HAPI_LISTEN_HOST/PORT, CLI_API_TOKEN)

target     --url http://127.0.0.1:3006  --token <CLI_API_TOKEN>  [--namespace ns]  [--allow-remote]
phases     --phases connect,steady[,stepup][,idle][,rpc]
CLIs       --clis 10  --transport websocket|polling|mixed  --alive-ms 2000  --payload-bytes 256
           --connect-rate 500  --connect-concurrency 64
runners    --runners 0  --machine-alive-ms 20000
web        --subscribers 1  --session-streams 0  --rest-rate 0
steady     --rate 100  --duration 10
stepup     --step-start 200  --step-factor 1.5  --step-seconds 5  --step-max-rate 100000
           --step-max-steps 16  --step-refine 2  --max-p99-ms 1000  --min-delivery 0.98  --drain-ms 2000
idle       --idle-levels 1000,3000  --idle-alive-ms 5000  --idle-seconds 15  --idle-processes 0
           --redis-url redis://127.0.0.1:6379 (Redis memory per idle session)
rpc        --rpc-concurrency 8  --rpc-seconds 10
output     --hub-pids 123,456  --json  --out result.json  --chart out.svg  --quiet  --max-seconds 900
`;
