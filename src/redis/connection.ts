// Redis connections for the engine and the rest of the hub (the Socket.IO adapter creates its
// own pub/sub pair with createRedisConnection).
//
// Connection URLs:
//   redis://[[user]:password@]host:port[/db]        standalone
//   rediss://[[user]:password@]host:port[/db]       standalone over TLS
//   redis+sentinel://[[user]:password@]host:port,host:port/<masterName>[?db=N&sentinelPassword=P]
//       Sentinel: the listed sentinels are asked for the current master of <masterName>; the
//       credentials authenticate to the data nodes, `sentinelPassword` (optional) to the sentinels.
//   redis+cluster://[[user]:password@]host:port,host:port[?tls=1]
//       Redis Cluster (ioredis Cluster): the listed nodes are seeds; the slot map is discovered.
//
// Failure policy (docs/design.md#failure-policy: writes fail with clear errors while Redis is down, never hang):
// - no offline queue: a command issued while disconnected rejects at once;
// - in-flight commands are not re-sent after a reconnect (a write may already have applied,
//   and a silent second run would not be idempotent), they fail instead: maxRetriesPerRequest 0
//   rejects them as soon as the connection closes (with 1, ioredis would hold them until the
//   next reconnect attempt, and drop them unsettled if that attempt succeeded);
// - every command has a timeout, so a stalled server cannot hold a caller forever;
// - reconnection keeps going in the background with capped backoff, forever.
import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
/** Redis could not be reached (within the bound); the engine maps it to its outage error. */
export class RedisUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RedisUnavailableError';
  }
}

export type RedisClient = Redis | Cluster;

/** What a connection is used for; shows up in CLIENT LIST as the connection name. */
export type RedisConnectionRole = 'commands' | 'event-bus' | 'adapter-pub' | 'adapter-sub' | 'admin';

export interface RedisConnectionTuning {
  /** Per-command reply timeout. */
  commandTimeoutMs?: number;
  /** TCP connect timeout of one attempt. */
  connectTimeoutMs?: number;
}

const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;
const MAX_RECONNECT_DELAY_MS = 2_000;

export type ParsedRedisUrl =
  | { mode: 'standalone'; url: string }
  | {
      mode: 'sentinel';
      sentinels: HostPort[];
      masterName: string;
      username?: string;
      password?: string;
      sentinelPassword?: string;
      db: number;
    }
  | { mode: 'cluster'; nodes: HostPort[]; username?: string; password?: string; tls: boolean };

interface HostPort {
  host: string;
  port: number;
}

export function parseRedisUrl(url: string): ParsedRedisUrl {
  const scheme = url.slice(0, url.indexOf('://'));
  if (scheme === 'redis' || scheme === 'rediss') return { mode: 'standalone', url };
  if (scheme !== 'redis+sentinel' && scheme !== 'redis+cluster') {
    throw new Error(`unsupported Redis URL scheme "${scheme}" (use redis, rediss, redis+sentinel or redis+cluster)`);
  }
  // The host list has commas, which WHATWG URL rejects; split it off by hand.
  const rest = url.slice(scheme.length + 3);
  const at = rest.lastIndexOf('@', rest.search(/[/?]|$/));
  const credentials = at >= 0 ? rest.slice(0, at) : '';
  const afterCredentials = at >= 0 ? rest.slice(at + 1) : rest;
  const hostsEnd = afterCredentials.search(/[/?]|$/);
  const hosts = parseHostList(afterCredentials.slice(0, hostsEnd));
  const tail = new URL(`x://h${afterCredentials.slice(hostsEnd)}`);
  const colon = credentials.indexOf(':');
  const username = decodeURIComponent(colon >= 0 ? credentials.slice(0, colon) : credentials) || undefined;
  const password = colon >= 0 ? decodeURIComponent(credentials.slice(colon + 1)) || undefined : undefined;

  if (scheme === 'redis+cluster') {
    return { mode: 'cluster', nodes: hosts, username, password, tls: tail.searchParams.get('tls') === '1' };
  }
  const masterName = decodeURIComponent(tail.pathname.replace(/^\//, ''));
  if (!masterName)
    throw new Error('redis+sentinel URL needs the master name as its path: redis+sentinel://host:port/<masterName>');
  const db = Number(tail.searchParams.get('db') ?? '0');
  if (!Number.isInteger(db) || db < 0) throw new Error(`invalid db in Redis URL: ${tail.searchParams.get('db')}`);
  return {
    mode: 'sentinel',
    sentinels: hosts,
    masterName,
    username,
    password,
    sentinelPassword: tail.searchParams.get('sentinelPassword') ?? undefined,
    db,
  };
}

function parseHostList(list: string): HostPort[] {
  const hosts = list
    .split(',')
    .filter(Boolean)
    .map((entry) => {
      const colon = entry.lastIndexOf(':');
      const host = colon >= 0 ? entry.slice(0, colon) : entry;
      const port = colon >= 0 ? Number(entry.slice(colon + 1)) : 6379;
      if (!host || !Number.isInteger(port) || port <= 0 || port > 65_535)
        throw new Error(`invalid host:port "${entry}" in Redis URL`);
      return { host: host.replace(/^\[|\]$/g, ''), port };
    });
  if (hosts.length === 0) throw new Error('Redis URL lists no hosts');
  return hosts;
}

/**
 * Creates a client for `url` without connecting it; call `connectRedis` (or the client's own
 * `connect()`) to open it.
 */
export function createRedisConnection(
  url: string,
  role: RedisConnectionRole,
  tuning: RedisConnectionTuning = {},
): RedisClient {
  const parsed = parseRedisUrl(url);
  const common: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    enableReadyCheck: true,
    commandTimeout: tuning.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    connectTimeout: tuning.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    connectionName: `hapi-hub:${role}`,
    retryStrategy: reconnectDelay,
    // Commands issued in one event-loop turn leave in one socket write: a heartbeat batch's
    // refresh script and its index writes, or many workers' concurrent calls, no longer cost a
    // write syscall each (bench:redis-cost: ~15 % less hub + Redis CPU per keep-alive).
    enableAutoPipelining: true,
  };
  switch (parsed.mode) {
    case 'standalone':
      return new Redis(parsed.url, common);
    case 'sentinel':
      return new Redis({
        ...common,
        sentinels: parsed.sentinels,
        name: parsed.masterName,
        username: parsed.username,
        password: parsed.password,
        sentinelPassword: parsed.sentinelPassword,
        db: parsed.db,
        sentinelRetryStrategy: reconnectDelay,
      });
    case 'cluster': {
      const nodes: ClusterNode[] = parsed.nodes;
      const options: ClusterOptions = {
        lazyConnect: true,
        enableOfflineQueue: false,
        enableReadyCheck: true,
        maxRedirections: 16,
        // No auto-pipelining here: ioredis then refuses our explicit multi-slot pipelines
        // ("All keys in the pipeline should belong to the same slots allocation group").
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
        retryDelayOnTryAgain: 100,
        slotsRefreshTimeout: tuning.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        clusterRetryStrategy: reconnectDelay,
        // Per-node connections: ioredis manages their offline queue and reconnection itself
        // (the cluster-level settings above are what callers see).
        redisOptions: {
          autoResendUnfulfilledCommands: false,
          maxRetriesPerRequest: common.maxRetriesPerRequest,
          commandTimeout: common.commandTimeout,
          connectTimeout: common.connectTimeout,
          connectionName: common.connectionName,
          username: parsed.username,
          password: parsed.password,
          tls: parsed.tls ? {} : undefined,
        },
      };
      return new Cluster(nodes, options);
    }
  }
}

/** Opens a client and waits until it is ready, bounded; closes it again on failure. */
export async function connectRedis(client: RedisClient, timeoutMs = 10_000): Promise<void> {
  // Errors are reported through rejected commands; an unhandled 'error' event would crash Node.
  // The last one is kept for the start-up message: a refused AUTH (WRONGPASS, NOAUTH) only shows
  // up as an 'error' event, the connect() itself just fails with "Connection is closed".
  let lastEvent: unknown;
  const remember = (error: unknown): void => {
    lastEvent = error;
  };
  client.on('error', remember);
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisUnavailableError(`Redis not ready within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([client.connect(), timeout]);
  } catch (error) {
    client.disconnect();
    const detail = lastEvent !== undefined && lastEvent !== error ? ` (${describe(lastEvent)})` : '';
    throw error instanceof RedisUnavailableError
      ? error
      : new RedisUnavailableError(`cannot connect to Redis: ${describe(error)}${detail}`, { cause: error });
  } finally {
    clearTimeout(timer);
    client.off('error', remember);
  }
}

function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 10), MAX_RECONNECT_DELAY_MS);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
