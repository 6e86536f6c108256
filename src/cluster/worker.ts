// One hub worker process: engine + hub (+ Redis adapter in a cluster), and the shutdown path
// shared by the single-process hub and cluster workers: drain (cluster/drain.ts), close, exit.
//
// In a cluster (HAPI_WORKERS > 1) the worker never listens: the primary owns the port and hands
// each connection over with @socket.io/sticky (`setupWorker`). It reports `hapi:ready` once it
// can serve (the primary holds connections for it until then) and drains on `hapi:drain` from
// the primary, on SIGTERM/SIGINT sent to it directly (a signal to the whole process group), or
// when the primary disappears (IPC disconnect), so a worker never outlives its primary.
import cluster from 'node:cluster';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Socket as NetSocket } from 'node:net';
import type { Duplex } from 'node:stream';
import { setupWorker } from '@socket.io/sticky';
import { AggregatorRegistry, Gauge } from 'prom-client';
import type { HubConfig } from '../config.js';
import { createEngine } from '../engine/index.js';
import type { Engine } from '../engine/engine.js';
import { createHub, type Hub } from '../hub.js';
import type { Logger } from '../ops/logger.js';
import { exitMarginMs } from './drain.js';
import { DrainMessageSchema, MetricsResponseMessageSchema, type MetricsRequestMessage, type WorkerReadyMessage } from './messages.js';
import { createSocketAdapter, type SocketAdapter } from './socket-adapter.js';

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
  const adapter: SocketAdapter | undefined = config.redisUrl ? await createSocketAdapter(config.redisUrl, { log }) : undefined;
  let engine: Engine;
  try {
    engine = await createEngine(config);
  } catch (error) {
    await adapter?.close();
    throw error;
  }
  if (engine.kind === 'memory') {
    log.warn('memory engine: data is kept in this process only — not persisted, not shared between workers; set REDIS_URL for a cluster');
  }
  const hub = await createHub({ config, engine, log, ...(adapter ? { adapter: adapter.factory } : {}) });

  if (mode === 'worker') {
    serveClusterMetrics(hub, log);
    releaseRelayedConnections(hub);
    setupWorker(hub.io);
  } else {
    const port = await hub.listen();
    log.info({ host: config.listenHost, port, engine: engine.kind }, 'hub listening');
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
  const signalDeadline = (): number => Date.now() + config.drainTimeoutMs - (mode === 'worker' ? exitMarginMs(config.drainTimeoutMs) : 0);
  process.once('SIGTERM', () => exitAfter('SIGTERM', signalDeadline()));
  process.once('SIGINT', () => exitAfter('SIGINT', signalDeadline()));
  if (mode === 'worker') {
    process.on('message', (message: unknown) => {
      const drain = DrainMessageSchema.safeParse(message);
      if (drain.success) exitAfter('primary requested drain', drain.data.deadlineAt);
    });
    process.once('disconnect', () => exitAfter('primary gone'));
    const ready: WorkerReadyMessage = { type: 'hapi:ready' };
    process.send?.(ready);
    log.info({ engine: engine.kind }, 'worker ready');
  }
  return { hub, engine, shutdown };
}

/**
 * A request with a body reaches the worker as sticky's FakeSocket (the primary keeps the real
 * socket and relays bytes over IPC). Sticky never destroys that object after the response: its
 * readable side never ends, so it never emits 'close', and every such request (each long-polling
 * POST, each REST write) would leave a socket + HTTP parser behind in the worker — and keep a
 * drain waiting for connections that are long finished. The response always ends the connection
 * (sticky sets `Connection: close`), so once the write side has finished the object is done.
 */
function releaseRelayedConnections(hub: Hub): void {
  hub.http.on('connection', (socket: Duplex) => {
    if (socket instanceof NetSocket) return;
    socket.once('finish', () => socket.destroy());
  });
}

// ---------------------------------------------------------------------------------------------
// GET /metrics in a cluster
//
// Choice: prom-client's AggregatorRegistry. Whichever worker the scrape lands on asks the primary
// over IPC; the primary collects every worker's registry (prom-client's own IPC protocol) and
// returns one exposition where counters and histograms are summed over the host's workers. So a
// scrape of any host port describes the whole host, and scraping every host (not every worker)
// covers the deployment. Per-worker figures that a sum would blur are exported with a `worker`
// label (hapi_worker_*). If aggregation fails (a worker not answering within prom-client's 5 s),
// the answering worker's own metrics are returned, marked with a comment line.

const METRICS_IPC_TIMEOUT_MS = 6_000;

function serveClusterMetrics(hub: Hub, log: Logger): void {
  const workerId = String(cluster.worker?.id ?? process.pid);
  // Constructing one installs prom-client's worker-side listener for the primary's requests.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([hub.metrics.registry]);
  const cli = hub.io.of('/cli');
  new Gauge({
    name: 'hapi_worker_cli_sockets',
    help: 'Connected /cli Socket.IO sockets, per worker',
    labelNames: ['worker'],
    registers: [hub.metrics.registry],
    collect() {
      this.set({ worker: workerId }, cli.sockets.size);
    },
  });
  new Gauge({
    name: 'hapi_worker_engine_clients',
    help: 'Open engine.io connections (all namespaces), per worker',
    labelNames: ['worker'],
    registers: [hub.metrics.registry],
    collect() {
      this.set({ worker: workerId }, hub.io.engine.clientsCount);
    },
  });

  let nextRequestId = 1;
  const pending = new Map<number, (text: string | null) => void>();
  process.on('message', (message: unknown) => {
    const response = MetricsResponseMessageSchema.safeParse(message);
    if (!response.success) return;
    pending.get(response.data.requestId)?.(response.data.text ?? null);
    pending.delete(response.data.requestId);
  });
  const aggregated = (): Promise<string | null> =>
    new Promise((resolve) => {
      const requestId = nextRequestId++;
      const timer = setTimeout(() => {
        pending.delete(requestId);
        resolve(null);
      }, METRICS_IPC_TIMEOUT_MS);
      pending.set(requestId, (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      const request: MetricsRequestMessage = { type: 'hapi:metrics-request', requestId };
      process.send?.(request);
    });

  const answer = async (res: ServerResponse): Promise<void> => {
    let body = await aggregated();
    if (body === null) {
      log.warn('cluster metrics aggregation failed; answering with this worker only');
      body = `# hapi: cluster aggregation unavailable, metrics of worker ${workerId} only\n${await hub.metrics.registry.metrics()}`;
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', hub.metrics.registry.contentType);
    res.end(body);
  };

  // Socket.IO already wrapped the server's request listener (it takes /socket.io/ and passes the
  // rest on); wrap once more, the same way, so only GET /metrics is answered here and every other
  // request reaches Koa unchanged.
  const http = hub.http;
  const listeners = http.listeners('request') as RequestListener[];
  http.removeAllListeners('request');
  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      void answer(res).catch((error: unknown) => {
        log.warn({ err: error }, 'metrics request failed');
        if (!res.headersSent) {
          res.statusCode = 500;
          res.setHeader('Content-Type', 'application/json');
        }
        res.end(JSON.stringify({ error: 'metrics unavailable' }));
      });
      return;
    }
    for (const listener of listeners) listener.call(http, req, res);
  });
}
