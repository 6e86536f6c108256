// `hapi-hub serve`: one process (HAPI_WORKERS=1), or a cluster primary that forks HAPI_WORKERS
// workers sharing one port (cluster/primary.ts); a forked worker runs this same entry point and
// starts its hub as a cluster worker (hub/process.ts). Both drain on SIGTERM (hub/drain.ts).
import cluster from 'node:cluster';
import { runPrimary } from '../cluster/primary.js';
import { ConfigError, type HubConfig } from '../config.js';
import { createLogger, type Logger } from '../ops/logger.js';
import { runHubProcess } from './process.js';

/**
 * Resolves with an exit code when the process should exit (a drained cluster primary), or null
 * when it keeps serving (single process or worker; they exit themselves after draining).
 */
export async function serve(config: HubConfig, log: Logger = createLogger(config.logLevel)): Promise<number | null> {
  if (config.workers > 1) {
    if (config.engineKind !== 'redis' || !config.redisUrl) {
      throw new ConfigError(
        `Invalid configuration:\n  HAPI_WORKERS: ${config.workers} workers need REDIS_URL — the ${config.engineKind} engine keeps sessions, presence and RPC routes to one process (sqlite: one writer of its file, live events in-process), so workers could not share them (set REDIS_URL, or HAPI_WORKERS=1)`,
      );
    }
    if (cluster.isPrimary) return runPrimary(config, log.child({ role: 'primary' }));
    await runHubProcess(config, log.child({ role: 'worker', worker: cluster.worker?.id }), 'worker');
    return null;
  }
  await runHubProcess(config, log, 'single');
  return null;
}
