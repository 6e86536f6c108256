// The cluster side of a worker process: serve the connections the primary hands over, name its
// engine.io sessions by its slot (so the primary routes long-polling requests here), offer its
// metrics registry to the primary's aggregation, report readiness and follow the primary's drain.
// The hub itself is started by hub/process.ts; this file only sees the parts of it that it serves.
import cluster from 'node:cluster';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { Socket as NetSocket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Gauge, type Registry } from 'prom-client';
import type { Server as IoServer } from 'socket.io';
import { z } from 'zod';
import {
  ConnectionMessageSchema,
  DrainMessageSchema,
  MetricsRequestMessageSchema,
  WORKER_SLOT_ENV,
  type ConnectionKind,
  type ConnectionsClosedMessage,
  type MetricsResponseMessage,
  type WorkerReadyMessage,
} from './messages.js';
import { ENGINE_IO_PATH, sessionIdForSlot, sessionIdOfTarget, slotOfSessionId } from './session-id.js';

/** What the worker side needs of a hub. */
export interface WorkerHubParts {
  http: HttpServer;
  io: IoServer;
  registry: Registry;
}

/** Serves connections handed over by the primary (the worker never listens itself). */
export function joinCluster(parts: WorkerHubParts): void {
  const slot = workerSlot();
  registerForClusterMetrics(parts);
  // engine.io's `generateId` may be replaced (its documented extension point).
  parts.io.engine.generateId = () => sessionIdForSlot(slot);
  redirectForeignSessions(parts.http, slot);
  receiveConnections(parts.http);
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

function workerSlot(): number {
  const parsed = z.coerce.number().int().min(0).max(255).safeParse(process.env[WORKER_SLOT_ENV]);
  if (!parsed.success) throw new Error(`a cluster worker needs ${WORKER_SLOT_ENV} (set by the cluster primary)`);
  return parsed.data;
}

/**
 * Takes a connection from the primary: the HTTP server adopts the socket, then its parser gets
 * the bytes the primary read (the request line, often the whole first request) before anything
 * the socket reads itself — that happens no earlier than the next turn of the event loop. The
 * server's own 'data' listener starts the socket flowing (or an upgrade handler takes over), so
 * nothing here resumes it. Closes are counted for the primary's least-connection choice.
 */
function receiveConnections(http: HttpServer): void {
  // Closes of one turn of the event loop go in one message, sent right after it: the primary's
  // counts stay current (a short-lived connection, e.g. a health check, stops counting at once).
  const closed: Record<ConnectionKind, number> = { engine: 0, http: 0 };
  let reportPending = false;
  const report = (): void => {
    reportPending = false;
    if (!process.connected) return;
    const message: ConnectionsClosedMessage = { type: 'hapi:connections-closed', ...closed };
    closed.engine = 0;
    closed.http = 0;
    process.send?.(message);
  };
  const countClosed = (kind: ConnectionKind): void => {
    closed[kind]++;
    if (reportPending) return;
    reportPending = true;
    setImmediate(report);
  };
  const engineClosed = (): void => countClosed('engine');
  const httpClosed = (): void => countClosed('http');
  process.on('message', (message: unknown, handle: unknown) => {
    const connection = ConnectionMessageSchema.safeParse(message);
    if (!connection.success) return;
    // No handle: the client closed while the descriptor was in transit.
    const { kind, head } = connection.data;
    if (!(handle instanceof NetSocket)) {
      countClosed(kind);
      return;
    }
    handle.once('close', kind === 'engine' ? engineClosed : httpClosed);
    http.emit('connection', handle);
    handle.emit('data', Buffer.isBuffer(head) ? head : Buffer.from(head.buffer, head.byteOffset, head.byteLength));
  });
}

/**
 * Long-polling across workers. The primary routes a connection by its first request only; a
 * connection kept alive after a REST request may later carry a long-polling request for a session
 * of another worker (a browser reuses its pooled connections freely). Such a request is answered
 * `307` to the same URL with `Connection: close`: the client repeats it on a new connection, which
 * the primary routes by its sid. The first request of a connection is never redirected — the
 * primary routed it here, so a foreign sid means its worker is gone and engine.io's own "Session
 * ID unknown" is the right answer (the client then opens a new session). Every long-polling
 * response closes its connection, as the pooled-connection case is then only ever a REST one.
 */
function redirectForeignSessions(http: HttpServer, slot: number): void {
  const served = new WeakSet<object>();
  const isForeign = (req: IncomingMessage): boolean => {
    const socket = req.socket;
    const first = !served.has(socket);
    served.add(socket);
    if (first) return false;
    const sid = sessionIdOfTarget(req.url ?? '', ENGINE_IO_PATH);
    const owner = sid === null ? null : slotOfSessionId(sid);
    return owner !== null && owner !== slot;
  };

  const requestListeners = http.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  http.removeAllListeners('request');
  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const engineRequest = req.url?.startsWith(ENGINE_IO_PATH) === true;
    if (engineRequest && !res.headersSent) res.setHeader('Connection', 'close');
    if (engineRequest && isForeign(req)) {
      redirect(req, res);
      return;
    }
    if (!engineRequest) served.add(req.socket);
    for (const listener of requestListeners) listener.call(http, req, res);
  });

  const upgradeListeners = http.listeners('upgrade') as ((
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
  ) => void)[];
  http.removeAllListeners('upgrade');
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (isForeign(req)) {
      socket.end(
        `HTTP/1.1 307 Temporary Redirect\r\nLocation: ${req.url ?? '/'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    for (const listener of upgradeListeners) listener.call(http, req, socket, head);
  });
}

/** `307` to the same URL; the request's body (a polling POST's packets) is read first, then dropped. */
function redirect(req: IncomingMessage, res: ServerResponse): void {
  const answer = (): void => {
    const origin = req.headers.origin;
    res.writeHead(307, {
      location: req.url ?? '/',
      connection: 'close',
      'content-length': '0',
      'cache-control': 'no-store',
      // The redirect carries nothing; the repeated request gets the real CORS check.
      ...(origin ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {}),
    });
    res.end();
  };
  if (req.complete) answer();
  else {
    req.once('end', answer);
    req.resume();
  }
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
