// Rate limit for error log lines a client can cause (a handler that throws on its input, a
// request whose response fails): the first few per connection and minute are logged, the rest
// only counted, so one hostile connection cannot flood the logs. A worker-wide ceiling bounds
// what many connections can write together.
import type { Counter } from 'prom-client';
import type { Logger } from './logger.js';

export const ERROR_LOGS_PER_CONNECTION_PER_WINDOW = 5;
export const ERROR_LOGS_PER_WORKER_PER_WINDOW = 100;
export const ERROR_LOG_WINDOW_MS = 60_000;

export type ClientErrorSource = 'cli-event' | 'http';

export interface ErrorLogLimiterMetrics {
  /** Every client-caused failure, logged or not. */
  clientErrors: Counter<'source'>;
  /** Failures not logged because their connection (or the worker) was over its budget. */
  clientErrorLogsSuppressed: Counter<'source'>;
}

interface Window {
  startedAt: number;
  logged: number;
}

export interface ErrorLogLimiter {
  /**
   * Counts one failure of `source` on `connection` (a socket or HTTP connection object) and
   * writes `fields` + `message` as one error line unless over budget.
   */
  error(connection: object, source: ClientErrorSource, fields: Record<string, unknown>, message: string): void;
}

export function createErrorLogLimiter(
  log: Logger,
  metrics: ErrorLogLimiterMetrics,
  now: () => number = Date.now,
): ErrorLogLimiter {
  // Keyed weakly by the connection object: a closed connection's window goes with it.
  const windows = new WeakMap<object, Window>();
  const worker: Window = { startedAt: now(), logged: 0 };
  const admit = (window: Window, budget: number, at: number): boolean => {
    if (at - window.startedAt >= ERROR_LOG_WINDOW_MS) {
      window.startedAt = at;
      window.logged = 0;
    }
    return window.logged < budget;
  };
  return {
    error(connection, source, fields, message) {
      metrics.clientErrors.inc({ source });
      const at = now();
      let window = windows.get(connection);
      if (!window) {
        window = { startedAt: at, logged: 0 };
        windows.set(connection, window);
      }
      if (
        !admit(window, ERROR_LOGS_PER_CONNECTION_PER_WINDOW, at) ||
        !admit(worker, ERROR_LOGS_PER_WORKER_PER_WINDOW, at)
      ) {
        metrics.clientErrorLogsSuppressed.inc({ source });
        return;
      }
      window.logged++;
      worker.logged++;
      log.error(fields, message);
    },
  };
}
