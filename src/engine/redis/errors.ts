// Maps "Redis cannot serve this right now" failures to EngineUnavailableError so transports can
// answer 503 / {result:'error'}; everything else (a script bug, WRONGTYPE) stays a plain error.
import { RedisUnavailableError } from '../../redis/connection.js';
import { EngineUnavailableError } from '../types.js';

/** Server replies that mean "not now", not "wrong request". */
const TRANSIENT_REPLY_PREFIXES = [
  'LOADING',
  'CLUSTERDOWN',
  'MASTERDOWN',
  'READONLY',
  'TRYAGAIN',
  'BUSY',
  'NOREPLICAS',
  'MOVED',
  'ASK',
  // maxmemory reached under `noeviction` (the shipped setups): Redis refuses writes until memory
  // is freed. The write fails cleanly (HTTP 503, ack `unavailable`) and nothing was stored, so a
  // retry is safe; reads and PING keep working, so /ready stays up and no pod restarts.
  'OOM',
];

/** Client-side failures of ioredis that mean "no usable connection right now". */
const CONNECTIVITY_MESSAGES = [
  'Connection is closed',
  "Stream isn't writeable",
  "Cluster isn't ready",
  'Cluster is disconnect',
  'Cluster is ended',
  'Command timed out',
  'None of startup nodes is available',
  'Failed to refresh slots cache',
  'Too many Cluster redirections',
  'All sentinels are unreachable',
  'Node is disconnected',
  'Connection is aborted',
  'Command aborted due to connection close',
  'Ready check failed',
];
const CONNECTIVITY_ERROR_NAMES = ['MaxRetriesPerRequestError', 'ClusterAllFailedError', 'AbortError'];
const SOCKET_ERROR_CODES = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
];

export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof EngineUnavailableError || error instanceof RedisUnavailableError) return true;
  if (error.name === 'ReplyError') return TRANSIENT_REPLY_PREFIXES.some((prefix) => error.message.startsWith(prefix));
  const code = (error as NodeJS.ErrnoException).code;
  return (
    CONNECTIVITY_ERROR_NAMES.includes(error.name) ||
    (code !== undefined && SOCKET_ERROR_CODES.includes(code)) ||
    CONNECTIVITY_MESSAGES.some((message) => error.message.includes(message))
  );
}

export function toEngineError(error: unknown): unknown {
  if (error instanceof EngineUnavailableError || !isRedisUnavailable(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith('OOM'))
    return new EngineUnavailableError(`Redis full (maxmemory reached), write refused: ${message}`, { cause: error });
  return new EngineUnavailableError(`Redis unavailable: ${message}`, { cause: error });
}

/**
 * Wraps every method of `target` (one store) so that rejected promises carry
 * EngineUnavailableError when Redis is the reason. One place instead of a try/catch in each primitive.
 */
export function mapUnavailableErrors<T extends object>(target: T): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        try {
          const result: unknown = Reflect.apply(value, object, args);
          return result instanceof Promise
            ? result.catch((error: unknown) => Promise.reject(toEngineError(error)))
            : result;
        } catch (error) {
          throw toEngineError(error);
        }
      };
    },
  });
}
