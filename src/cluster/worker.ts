// The cluster side of a worker process: take connections from the primary (@socket.io/sticky),
// offer its metrics registry to the primary's aggregation, report readiness and follow the primary's drain. The
// hub itself is started by hub/process.ts; this file only sees the parts of it that it serves.
import cluster from 'node:cluster';
import type { Server as HttpServer } from 'node:http';
import { Socket as NetSocket } from 'node:net';
import type { Duplex } from 'node:stream';
import { setupWorker } from '@socket.io/sticky';
import { Gauge, type Registry } from 'prom-client';
import type { Server as IoServer } from 'socket.io';
import {
  DrainMessageSchema,
  MetricsRequestMessageSchema,
  type MetricsResponseMessage,
  type WorkerReadyMessage,
} from './messages.js';

/** What the worker side needs of a hub. */
export interface WorkerHubParts {
  http: HttpServer;
  io: IoServer;
  registry: Registry;
}

/** Serves connections handed over by the primary (the worker never listens itself). */
export function joinCluster(parts: WorkerHubParts): void {
  registerForClusterMetrics(parts);
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
// Metrics in a cluster
//
// The primary serves GET /metrics on the internal metrics listener (HAPI_METRICS_PORT,
// cluster/primary.ts): it asks every ready worker for its registry over IPC
// (`hapi:metrics-request`, answered here with `getMetricsAsJSON()`) and aggregates them with
// prom-client (counters and histograms summed over the host's workers). So a scrape describes the
// whole host, and scraping every host (not every worker) covers the deployment. Per-worker
// figures that a sum would blur are exported with a `worker` label (hapi_worker_*). Workers serve
// no /metrics themselves: the public port answers 404.

function registerForClusterMetrics(hub: WorkerHubParts): void {
  const workerId = String(cluster.worker?.id ?? process.pid);
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
  process.on('message', (message: unknown) => {
    const request = MetricsRequestMessageSchema.safeParse(message);
    if (!request.success) return;
    void hub.registry.getMetricsAsJSON().then((metrics) => {
      const response: MetricsResponseMessage = {
        type: 'hapi:metrics-response',
        requestId: request.data.requestId,
        metrics: metrics as unknown as MetricsResponseMessage['metrics'],
      };
      if (process.connected) process.send?.(response);
    });
  });
}
