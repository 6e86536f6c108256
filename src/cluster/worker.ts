// The cluster side of a worker process: take connections from the primary (@socket.io/sticky),
// answer GET /metrics for the whole host, report readiness and follow the primary's drain. The
// hub itself is started by hub/process.ts; this file only sees the parts of it that it serves.
import cluster from 'node:cluster';
import type { IncomingMessage, RequestListener, Server as HttpServer, ServerResponse } from 'node:http';
import { Socket as NetSocket } from 'node:net';
import type { Duplex } from 'node:stream';
import { setupWorker } from '@socket.io/sticky';
import { AggregatorRegistry, Gauge, type Registry } from 'prom-client';
import type { Server as IoServer } from 'socket.io';
import type { Logger } from '../ops/logger.js';
import {
  DrainMessageSchema,
  MetricsResponseMessageSchema,
  type MetricsRequestMessage,
  type WorkerReadyMessage,
} from './messages.js';

/** What the worker side needs of a hub. */
export interface WorkerHubParts {
  http: HttpServer;
  io: IoServer;
  registry: Registry;
}

/** Serves connections handed over by the primary (the worker never listens itself). */
export function joinCluster(parts: WorkerHubParts, log: Logger): void {
  serveClusterMetrics(parts, log);
  releaseRelayedConnections(parts.http);
  setupWorker(parts.io);
}

/**
 * Tells the primary this worker can serve (it holds connections for it until then), and calls
 * `drain` when the primary asks for a drain or disappears (IPC disconnect), so a worker never
 * outlives its primary.
 */
export function followPrimary(drain: (reason: string, deadlineAt?: number) => void): void {
  process.on('message', (message: unknown) => {
    const request = DrainMessageSchema.safeParse(message);
    if (request.success) drain('primary requested drain', request.data.deadlineAt);
  });
  process.once('disconnect', () => drain('primary gone'));
  const ready: WorkerReadyMessage = { type: 'hapi:ready' };
  process.send?.(ready);
}

/**
 * A request with a body reaches the worker as sticky's FakeSocket (the primary keeps the real
 * socket and relays bytes over IPC). Sticky never destroys that object after the response: its
 * readable side never ends, so it never emits 'close', and every such request (each long-polling
 * POST, each REST write) would leave a socket + HTTP parser behind in the worker — and keep a
 * drain waiting for connections that are long finished. The response always ends the connection
 * (sticky sets `Connection: close`), so once the write side has finished the object is done.
 */
function releaseRelayedConnections(http: HttpServer): void {
  http.on('connection', (socket: Duplex) => {
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

function serveClusterMetrics(hub: WorkerHubParts, log: Logger): void {
  const workerId = String(cluster.worker?.id ?? process.pid);
  // Constructing one installs prom-client's worker-side listener for the primary's requests.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([hub.registry]);
  const cli = hub.io.of('/cli');
  new Gauge({
    name: 'hapi_worker_cli_sockets',
    help: 'Connected /cli Socket.IO sockets, per worker',
    labelNames: ['worker'],
    registers: [hub.registry],
    collect() {
      this.set({ worker: workerId }, cli.sockets.size);
    },
  });
  new Gauge({
    name: 'hapi_worker_engine_clients',
    help: 'Open engine.io connections (all namespaces), per worker',
    labelNames: ['worker'],
    registers: [hub.registry],
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
      body = `# hapi: cluster aggregation unavailable, metrics of worker ${workerId} only\n${await hub.registry.metrics()}`;
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', hub.registry.contentType);
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
