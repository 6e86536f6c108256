// The only module that reads process.env. Every setting is parsed and validated here so a bad
// value stops the hub at start-up with a message naming the variable.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { type LimitSettings, limitSettingsFromEnv } from './config/limits.js';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

export const ConfigEnvSchema = z.object({
  HAPI_LISTEN_HOST: z.string().min(1).default('127.0.0.1'),
  HAPI_LISTEN_PORT: port.default(3006),
  // Prometheus /metrics on its own listener, never on the public port. Unset = no listener (the
  // shipped compose/Helm/kustomize setups set it); 0 = a port the OS picks (logged).
  HAPI_METRICS_PORT: optionalString.pipe(z.coerce.number<string | undefined>().int().min(0).max(65535).optional()),
  HAPI_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  HAPI_PUBLIC_URL: z.string().url().optional(),
  CORS_ORIGINS: optionalString,
  CLI_API_TOKEN: optionalString.refine((v) => v === undefined || !v.includes(':'), {
    message: 'must be the base token only; namespace suffixes are not accepted',
  }),
  REDIS_URL: optionalString,
  // The Redis password kept out of REDIS_URL (a Kubernetes secretKeyRef, or a file such as a
  // compose-generated secret); never logged. At most one of the two, and not with a URL password.
  REDIS_PASSWORD: optionalString,
  REDIS_PASSWORD_FILE: optionalString,
  // Empty counts as unset, as for every optional variable (compose passes `${HAPI_ENGINE:-}`).
  HAPI_ENGINE: optionalString.pipe(z.enum(['memory', 'sqlite', 'redis']).optional()),
  HAPI_DATA_DIR: optionalString,
  HAPI_SQLITE_SYNC: z.enum(['full', 'normal']).default('full'),
  HAPI_WORKERS: positiveInt.max(256).default(1),
  HAPI_JWT_SECRET: optionalString.refine((v) => v === undefined || v.length >= 16, {
    message: 'must be at least 16 characters',
  }),
  HAPI_NAMESPACE_AUTH: z.enum(['token', 'trust']).default('token'),
  HAPI_GLOBAL_TOKEN: z.enum(['on', 'off']).default('on'),
  // open: the hub-wide token opens (and registers) any namespace it names, as upstream does.
  // closed: only namespaces already in the registry (`hapi-hub ns create`, and `default`).
  HAPI_NAMESPACE_REGISTRATION: z.enum(['open', 'closed']).default('open'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Tunables below have upstream's values as defaults; tests shorten them.
  HAPI_SESSION_TTL_MS: positiveInt.default(30_000),
  HAPI_MACHINE_TTL_MS: positiveInt.default(45_000),
  HAPI_SWEEP_INTERVAL_MS: positiveInt.default(5_000),
  HAPI_SSE_HEARTBEAT_MS: positiveInt.default(30_000),
  HAPI_EVENT_LOG_MAX_EVENTS: positiveInt.default(1024),
  HAPI_EVENT_LOG_MAX_BYTES: positiveInt.default(8 * 1024 * 1024),
  HAPI_SSE_MAX_BUFFERED_BYTES: positiveInt.default(4 * 1024 * 1024),
  HAPI_MESSAGE_HISTORY_LIMIT: z.coerce.number().int().min(0).default(0),
  HAPI_DRAIN_TIMEOUT_MS: positiveInt.default(20_000),
  HAPI_RPC_TIMEOUT_MS: positiveInt.default(30_000),
  HAPI_RPC_LONG_TIMEOUT_MS: positiveInt.default(120_000),
  HAPI_MAX_HTTP_BUFFER_BYTES: positiveInt.default(48 * 1024 * 1024),
  HAPI_MAX_BODY_BYTES: positiveInt.default(68 * 1024 * 1024),
  // A directory holding the web app (e.g. from `hapi-hub web install`); unset = no static files.
  HAPI_WEB_DIR: optionalString,
});

export interface HubConfig {
  listenHost: string;
  listenPort: number;
  /** Where GET /metrics is served (HAPI_METRICS_HOST/PORT); null = nowhere. */
  metricsListen: { host: string; port: number } | null;
  publicUrl: string;
  corsOrigins: string[] | '*';
  cliApiToken: string | undefined;
  redisUrl: string | undefined;
  /** Which engine holds the hub's state (src/engine/index.ts; HAPI_ENGINE). */
  engineKind: EngineKind;
  /** Absolute directory of the sqlite engine's database file (created with mode 0700). */
  dataDir: string;
  /** When the sqlite engine's commits reach the disk (src/engine/sqlite/connection.ts). */
  sqliteSync: 'full' | 'normal';
  workers: number;
  jwtSecret: string | undefined;
  namespaceAuth: 'token' | 'trust';
  globalTokenEnabled: boolean;
  /** closed: the hub-wide token opens only registered namespaces (HAPI_NAMESPACE_REGISTRATION). */
  namespaceRegistration: 'open' | 'closed';
  logLevel: z.infer<typeof ConfigEnvSchema>['LOG_LEVEL'];
  sessionTtlMs: number;
  machineTtlMs: number;
  sweepIntervalMs: number;
  sseHeartbeatMs: number;
  eventLogMaxEvents: number;
  eventLogMaxBytes: number;
  sseMaxBufferedBytes: number;
  messageHistoryLimit: number;
  drainTimeoutMs: number;
  rpcTimeoutMs: number;
  rpcLongTimeoutMs: number;
  maxHttpBufferBytes: number;
  maxBodyBytes: number;
  webDir: string | undefined;
  /** Multi-tenant limits (HAPI_LIMIT_*; src/config/limits.ts). */
  limits: LimitSettings;
}

export type EngineKind = 'memory' | 'sqlite' | 'redis';

export class ConfigError extends Error {}

/**
 * HAPI_ENGINE, or the default: redis when REDIS_URL is set, else sqlite in HAPI_DATA_DIR (a
 * restart keeps sessions, messages and the generated CLI_API_TOKEN; memory, which forgets them,
 * is only ever chosen explicitly, for tests and throw-away hubs). An explicit engine must
 * agree with REDIS_URL: Redis needs its URL, and with memory/sqlite a REDIS_URL would only
 * connect the Socket.IO adapter to other processes that cannot share this one's state.
 */
function chooseEngine(explicit: EngineKind | undefined, redisUrl: string | undefined): EngineKind {
  if (explicit === undefined) return redisUrl ? 'redis' : 'sqlite';
  if (explicit === 'redis' && !redisUrl)
    throw new ConfigError('Invalid configuration:\n  HAPI_ENGINE: redis needs REDIS_URL');
  if (explicit !== 'redis' && redisUrl) {
    throw new ConfigError(
      `Invalid configuration:\n  HAPI_ENGINE: ${explicit} keeps state in this process, but REDIS_URL is set (unset REDIS_URL, or use HAPI_ENGINE=redis)`,
    );
  }
  return explicit;
}

function configError(variable: string, message: string): ConfigError {
  return new ConfigError(`Invalid configuration:\n  ${variable}: ${message}`);
}

function redisPasswordFrom(value: string | undefined, file: string | undefined): string | undefined {
  if (value !== undefined && file !== undefined)
    throw configError('REDIS_PASSWORD_FILE', 'set either REDIS_PASSWORD or REDIS_PASSWORD_FILE, not both');
  if (file === undefined) return value;
  let content: string;
  try {
    content = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw configError(
      'REDIS_PASSWORD_FILE',
      `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  if (content === '') throw configError('REDIS_PASSWORD_FILE', `${file} is empty`);
  return content;
}

/**
 * REDIS_URL with the separately given password as its credentials, for every URL form the
 * connection accepts (src/redis/connection.ts reads credentials from the URL only).
 */
function redisUrlWithPassword(url: string | undefined, password: string | undefined): string | undefined {
  if (password === undefined) return url;
  if (url === undefined) throw configError('REDIS_PASSWORD', 'needs REDIS_URL');
  const schemeEnd = url.indexOf('://');
  if (schemeEnd < 0) throw configError('REDIS_URL', 'not a URL');
  const rest = url.slice(schemeEnd + 3);
  const at = rest.lastIndexOf('@', rest.search(/[/?]|$/));
  const credentials = at >= 0 ? rest.slice(0, at) : '';
  if (credentials.includes(':'))
    throw configError('REDIS_PASSWORD', 'REDIS_URL already carries a password; give it in one place only');
  const user = credentials;
  return `${url.slice(0, schemeEnd + 3)}${user}:${encodeURIComponent(password)}@${at >= 0 ? rest.slice(at + 1) : rest}`;
}

function metricsListenFrom(
  host: string,
  port: number | undefined,
  listenPort: number,
): { host: string; port: number } | null {
  if (port === undefined) return null;
  if (port !== 0 && port === listenPort) {
    throw new ConfigError(
      `Invalid configuration:\n  HAPI_METRICS_PORT: ${port} is HAPI_LISTEN_PORT; metrics need their own (internal) port`,
    );
  }
  return { host, port };
}

/** `~` and `~/…` are the home directory; relative paths are resolved against the working directory. */
function dataDirFrom(raw: string | undefined): string {
  if (raw === undefined) return join(homedir(), '.hapi-hub');
  if (raw === '~') return homedir();
  if (raw.startsWith('~/')) return join(homedir(), raw.slice(2));
  return resolve(raw);
}

function normaliseOrigins(raw: string | undefined, publicUrl: string): string[] | '*' {
  const entries = (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (entries.includes('*')) return '*';
  const origins = entries.map((entry) => {
    try {
      return new URL(entry).origin;
    } catch {
      return entry;
    }
  });
  return origins.length > 0 ? origins : [new URL(publicUrl).origin];
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const parsed = ConfigEnvSchema.safeParse(env);
  const limits = limitSettingsFromEnv(env);
  const issues = [...(parsed.success ? [] : parsed.error.issues), ...(Array.isArray(limits) ? limits : [])];
  if (!parsed.success || Array.isArray(limits)) {
    const lines = issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const publicUrl = e.HAPI_PUBLIC_URL ?? `http://localhost:${e.HAPI_LISTEN_PORT}`;
  return {
    listenHost: e.HAPI_LISTEN_HOST,
    listenPort: e.HAPI_LISTEN_PORT,
    metricsListen: metricsListenFrom(e.HAPI_METRICS_HOST, e.HAPI_METRICS_PORT, e.HAPI_LISTEN_PORT),
    publicUrl,
    corsOrigins: normaliseOrigins(e.CORS_ORIGINS, publicUrl),
    cliApiToken: e.CLI_API_TOKEN,
    redisUrl: redisUrlWithPassword(e.REDIS_URL, redisPasswordFrom(e.REDIS_PASSWORD, e.REDIS_PASSWORD_FILE)),
    engineKind: chooseEngine(e.HAPI_ENGINE, e.REDIS_URL),
    dataDir: dataDirFrom(e.HAPI_DATA_DIR),
    sqliteSync: e.HAPI_SQLITE_SYNC,
    workers: e.HAPI_WORKERS,
    jwtSecret: e.HAPI_JWT_SECRET,
    namespaceAuth: e.HAPI_NAMESPACE_AUTH,
    globalTokenEnabled: e.HAPI_GLOBAL_TOKEN === 'on',
    namespaceRegistration: e.HAPI_NAMESPACE_REGISTRATION,
    logLevel: e.LOG_LEVEL,
    sessionTtlMs: e.HAPI_SESSION_TTL_MS,
    machineTtlMs: e.HAPI_MACHINE_TTL_MS,
    sweepIntervalMs: e.HAPI_SWEEP_INTERVAL_MS,
    sseHeartbeatMs: e.HAPI_SSE_HEARTBEAT_MS,
    eventLogMaxEvents: e.HAPI_EVENT_LOG_MAX_EVENTS,
    eventLogMaxBytes: e.HAPI_EVENT_LOG_MAX_BYTES,
    sseMaxBufferedBytes: e.HAPI_SSE_MAX_BUFFERED_BYTES,
    messageHistoryLimit: e.HAPI_MESSAGE_HISTORY_LIMIT,
    drainTimeoutMs: e.HAPI_DRAIN_TIMEOUT_MS,
    rpcTimeoutMs: e.HAPI_RPC_TIMEOUT_MS,
    rpcLongTimeoutMs: e.HAPI_RPC_LONG_TIMEOUT_MS,
    maxHttpBufferBytes: e.HAPI_MAX_HTTP_BUFFER_BYTES,
    maxBodyBytes: e.HAPI_MAX_BODY_BYTES,
    webDir: e.HAPI_WEB_DIR,
    limits,
  };
}
