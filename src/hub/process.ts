// The hub in this process: engine + hub (+ Redis adapter when REDIS_URL is set), and the way
// out shared by the single-process hub and cluster workers: drain (hub/drain.ts), close, exit.
//
// `single` listens on HAPI_LISTEN_HOST:PORT itself. A cluster `worker` never listens: the
// primary owns the port (cluster/primary.ts) and hands connections over (cluster/worker.ts). Both
// drain on SIGTERM/SIGINT (for a worker: a signal to the whole process group); a worker also on
// the primary's request or when the primary disappears.
import type { HubConfig } from '../config.js';
import { exitMarginMs } from '../cluster/messages.js';
import { createSocketAdapter, type SocketAdapter } from '../cluster/socket-adapter.js';
import { followPrimary, joinCluster } from '../cluster/worker.js';
import { createEngine } from '../engine/index.js';
import type { Engine } from '../engine/engine.js';
import type { Logger } from '../ops/logger.js';
import { startMetricsListener, type MetricsListener } from '../ops/metrics-listener.js';
import { createHub, type Hub } from './create.js';

export type ProcessMode = 'single' | 'worker';

export interface RunningHub {
  hub: Hub;
  engine: Engine;
  /** Drains, closes and resolves when the process may exit (idempotent). */
  shutdown(reason: string, deadlineAt?: number): Promise<void>;
}

/**
 * Starts the hub for this process. `single`: listens on HAPI_LISTEN_HOST:PORT itself. `worker`:
 * receives connections from the cluster primary. Exits the process after a signal-driven drain.
 */
export async function runHubProcess(config: HubConfig, log: Logger, mode: ProcessMode): Promise<RunningHub> {
  if (mode === 'worker' && !config.redisUrl) throw new Error('a cluster worker needs REDIS_URL');
  // With Redis, other hub processes may serve the same tenants — this host's other workers, or
  // other hosts each running one process (HAPI_WORKERS=1, e.g. 1-CPU pods): room emits and RPC
  // acks must reach their sockets too.
  const adapter: SocketAdapter | undefined = config.redisUrl
    ? await createSocketAdapter(config.redisUrl, { log })
    : undefined;
  let engine: Engine;
  try {
    engine = await createEngine(config);
  } catch (error) {
    await adapter?.close();
    throw error;
  }
  if (engine.kind === 'memory') {
    log.warn(
      'memory engine: data is kept in this process only — not persisted, not shared between workers; set REDIS_URL for a cluster',
    );
  }
  if (engine.kind === 'sqlite')
    log.info(
      { dataDir: config.dataDir },
      'sqlite engine: data persisted in HAPI_DATA_DIR; one hub process (set REDIS_URL for a cluster)',
    );
  const hub = await createHub({ config, engine, log, ...(adapter ? { adapter: adapter.factory } : {}) });

  // A worker's metrics are served by the primary's listener, aggregated over the host's workers.
  let metricsListener: MetricsListener | null = null;
  if (mode === 'worker') {
    joinCluster({ http: hub.http, io: hub.io, registry: hub.metrics.registry });
  } else {
    const port = await hub.listen();
    log.info({ host: config.listenHost, port, engine: engine.kind }, 'hub listening');
    if (config.metricsListen) {
      const registry = hub.metrics.registry;
      metricsListener = await startMetricsListener(
        config.metricsListen,
        { contentType: registry.contentType, render: () => registry.metrics() },
        log,
      );
    }
  }
  if (hub.services.auth.generatedCliApiToken) {
    // Printed once, by the process that created the token; later starts reuse it silently.
    process.stdout.write(`\nCLI_API_TOKEN (generated, keep it safe): ${hub.services.auth.hubToken}\n\n`);
  }

  let shuttingDown: Promise<void> | null = null;
  const shutdown = (reason: string, deadlineAt = Date.now() + config.drainTimeoutMs): Promise<void> => {
    shuttingDown ??= (async () => {
      log.info({ reason, drainMs: deadlineAt - Date.now() }, 'draining');
      await hub.drain(deadlineAt);
      await metricsListener?.close();
      await hub.close().catch((error: unknown) => log.warn({ err: error }, 'hub close failed'));
      await engine.close().catch((error: unknown) => log.warn({ err: error }, 'engine close failed'));
      await adapter?.close();
    })();
    return shuttingDown;
  };
  const exitAfter = (reason: string, deadlineAt?: number): void => {
    void shutdown(reason, deadlineAt).finally(() => process.exit(0));
  };
  // A signal sent to the whole process group (Ctrl-C, a group kill) reaches the workers as well
  // as the primary: a worker then keeps the same margin before the primary's deadline.
  const signalDeadline = (): number =>
    Date.now() + config.drainTimeoutMs - (mode === 'worker' ? exitMarginMs(config.drainTimeoutMs) : 0);
  process.once('SIGTERM', () => exitAfter('SIGTERM', signalDeadline()));
  process.once('SIGINT', () => exitAfter('SIGINT', signalDeadline()));
  if (mode === 'worker') {
    followPrimary(exitAfter);
    log.info({ engine: engine.kind }, 'worker ready');
  }
  return { hub, engine, shutdown };
}
