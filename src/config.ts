// The only module that reads process.env. Every setting is parsed and validated here so a bad
// value stops the hub at start-up with a message naming the variable.
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
  HAPI_PUBLIC_URL: z.string().url().optional(),
  CORS_ORIGINS: optionalString,
  CLI_API_TOKEN: optionalString.refine((v) => v === undefined || !v.includes(':'), {
    message: 'must be the base token only; namespace suffixes are not accepted',
  }),
  REDIS_URL: optionalString,
  // Empty counts as unset, as for every optional variable (compose passes `${HAPI_ENGINE:-}`).
  HAPI_ENGINE: optionalString.pipe(z.enum(['memory', 'sqlite', 'redis']).optional()),
  HAPI_DATA_DIR: optionalString,
  HAPI_WORKERS: positiveInt.max(256).default(1),
  HAPI_JWT_SECRET: optionalString.refine((v) => v === undefined || v.length >= 16, {
    message: 'must be at least 16 characters',
  }),
  HAPI_NAMESPACE_AUTH: z.enum(['token', 'trust']).default('token'),
  HAPI_GLOBAL_TOKEN: z.enum(['on', 'off']).default('on'),
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
  publicUrl: string;
  corsOrigins: string[] | '*';
  cliApiToken: string | undefined;
  redisUrl: string | undefined;
  /** Which engine holds the hub's state (src/engine/index.ts; HAPI_ENGINE). */
  engineKind: EngineKind;
  /** Absolute directory of the sqlite engine's database file (created with mode 0700). */
  dataDir: string;
  workers: number;
  jwtSecret: string | undefined;
  namespaceAuth: 'token' | 'trust';
  globalTokenEnabled: boolean;
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
 * HAPI_ENGINE, or the default: redis when REDIS_URL is set, else memory. An explicit engine must
 * agree with REDIS_URL: Redis needs its URL, and with memory/sqlite a REDIS_URL would only
 * connect the Socket.IO adapter to other processes that cannot share this one's state.
 */
function chooseEngine(explicit: EngineKind | undefined, redisUrl: string | undefined): EngineKind {
  if (explicit === undefined) return redisUrl ? 'redis' : 'memory';
  if (explicit === 'redis' && !redisUrl)
    throw new ConfigError('Invalid configuration:\n  HAPI_ENGINE: redis needs REDIS_URL');
  if (explicit !== 'redis' && redisUrl) {
    throw new ConfigError(
      `Invalid configuration:\n  HAPI_ENGINE: ${explicit} keeps state in this process, but REDIS_URL is set (unset REDIS_URL, or use HAPI_ENGINE=redis)`,
    );
  }
  return explicit;
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
    publicUrl,
    corsOrigins: normaliseOrigins(e.CORS_ORIGINS, publicUrl),
    cliApiToken: e.CLI_API_TOKEN,
    redisUrl: e.REDIS_URL,
    engineKind: chooseEngine(e.HAPI_ENGINE, e.REDIS_URL),
    dataDir: dataDirFrom(e.HAPI_DATA_DIR),
    workers: e.HAPI_WORKERS,
    jwtSecret: e.HAPI_JWT_SECRET,
    namespaceAuth: e.HAPI_NAMESPACE_AUTH,
    globalTokenEnabled: e.HAPI_GLOBAL_TOKEN === 'on',
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
