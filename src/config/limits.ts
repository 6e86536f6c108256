// The table of multi-tenant limits: every limit's name, environment variable, default and scope.
// Defaults are far above what a normal HAPI user does (a few CLIs and a runner per namespace,
// bursts of a few hundred messages), so only a runaway or hostile client meets them. The
// environment sets hub-wide values (HAPI_LIMIT_*); `hapi-hub ns set-limits` overrides them per
// namespace (kept in the engine, so every worker applies the same value).
import { z } from 'zod';

export interface LimitSpec {
  env: string;
  default: number;
  scope: 'namespace' | 'socket';
  /** One line for `ns limits` and the README table. */
  what: string;
}

const MiB = 1024 * 1024;

export const LIMITS = {
  connections: {
    env: 'HAPI_LIMIT_CONNECTIONS',
    default: 500,
    scope: 'namespace',
    what: '/cli sockets connected at once',
  },
  sessions: { env: 'HAPI_LIMIT_SESSIONS', default: 20_000, scope: 'namespace', what: 'stored sessions' },
  machines: { env: 'HAPI_LIMIT_MACHINES', default: 1_000, scope: 'namespace', what: 'stored machines' },
  socketEventsPerSec: {
    env: 'HAPI_LIMIT_SOCKET_EVENTS_PER_SEC',
    default: 50,
    scope: 'socket',
    what: '/cli events per second (token bucket, burst 10 s worth)',
  },
  socketBytesPerSec: {
    env: 'HAPI_LIMIT_SOCKET_BYTES_PER_SEC',
    default: 1 * MiB,
    scope: 'socket',
    what: 'message bytes per second (token bucket, burst 10 s worth)',
  },
  namespaceEventsPerSec: {
    env: 'HAPI_LIMIT_NAMESPACE_EVENTS_PER_SEC',
    default: 200,
    scope: 'namespace',
    what: 'events and web prompts per second, all sockets and workers (burst 10 s worth)',
  },
  namespaceBytesPerSec: {
    env: 'HAPI_LIMIT_NAMESPACE_BYTES_PER_SEC',
    default: 4 * MiB,
    scope: 'namespace',
    what: 'message bytes per second, all sockets and workers (burst 10 s worth)',
  },
  historyBytes: {
    env: 'HAPI_LIMIT_HISTORY_BYTES',
    default: 2 * 1024 * MiB,
    scope: 'namespace',
    what: 'stored message bytes',
  },
  concurrentRpcs: {
    env: 'HAPI_LIMIT_CONCURRENT_RPCS',
    default: 64,
    scope: 'namespace',
    what: 'web→CLI RPC calls in flight, cluster-wide',
  },
  pendingEvents: {
    env: 'HAPI_LIMIT_PENDING_EVENTS',
    default: 2_000,
    scope: 'socket',
    what: 'events received but not yet handled; beyond it the socket is told and disconnected',
  },
} as const satisfies Record<string, LimitSpec>;

export type LimitName = keyof typeof LIMITS;
export type LimitValues = Record<LimitName, number>;
/** Per-namespace overrides: only the limits an operator set. */
export type LimitOverrides = Partial<LimitValues>;

export const LIMIT_NAMES = Object.keys(LIMITS) as LimitName[];

/** A token bucket holds this many seconds of its rate: room for bursts, bounded memory. */
export const BURST_SECONDS = 10;

/** What happens when a namespace's stored history reaches `historyBytes`. */
export const HistoryPolicySchema = z.enum(['refuse', 'drop-archived']);
export type HistoryPolicy = z.infer<typeof HistoryPolicySchema>;

export interface LimitSettings {
  defaults: LimitValues;
  historyPolicy: HistoryPolicy;
}

const limitValue = z.coerce.number().int().positive();

export const LimitNameSchema = z.enum(LIMIT_NAMES as [LimitName, ...LimitName[]]);

/** `key=value` pairs of `ns set-limits`; `key=` (empty) removes the override. */
export const LimitAssignmentSchema = z
  .string()
  .regex(/^[A-Za-z]+=\d*$/, 'expected key=value (value a positive integer, empty to remove)')
  .transform((text) => {
    const [key = '', raw = ''] = text.split('=');
    return { key, value: raw === '' ? null : Number(raw) };
  })
  .pipe(z.object({ key: LimitNameSchema, value: z.number().int().positive().safe().nullable() }));

/** HAPI_LIMIT_* from the environment (the caller is config.ts, the only reader of process.env). */
export function limitSettingsFromEnv(env: Record<string, string | undefined>): LimitSettings | z.core.$ZodIssue[] {
  const issues: z.core.$ZodIssue[] = [];
  const defaults = {} as LimitValues;
  for (const name of LIMIT_NAMES) {
    const spec: LimitSpec = LIMITS[name];
    const raw = env[spec.env];
    if (raw === undefined || raw.trim() === '') {
      defaults[name] = spec.default;
      continue;
    }
    const parsed = limitValue.safeParse(raw.trim());
    if (parsed.success) defaults[name] = parsed.data;
    else issues.push(...parsed.error.issues.map((issue) => ({ ...issue, path: [spec.env] })));
  }
  const policy = HistoryPolicySchema.safeParse(env.HAPI_LIMIT_HISTORY_POLICY?.trim() || 'refuse');
  if (!policy.success)
    issues.push(...policy.error.issues.map((issue) => ({ ...issue, path: ['HAPI_LIMIT_HISTORY_POLICY'] })));
  if (issues.length > 0 || !policy.success) return issues;
  return { defaults, historyPolicy: policy.data };
}

export const DEFAULT_LIMIT_SETTINGS: LimitSettings = {
  defaults: Object.fromEntries(LIMIT_NAMES.map((name) => [name, LIMITS[name].default])) as LimitValues,
  historyPolicy: 'refuse',
};
