// Graceful drain of one worker (docs/design.md#drain): readiness off, stop accepting, tell Socket.IO clients to
// reconnect elsewhere in batches, end SSE streams, let in-flight requests finish, all before a
// deadline. The same code runs in a single-process hub and in every cluster worker.
//
// How clients are "told to reconnect elsewhere": their engine.io connection is closed, not their
// Socket.IO session. A Socket.IO DISCONNECT packet (`io.disconnectSockets()`) reaches the client as
// reason "io server disconnect", after which socket.io-client does NOT reconnect by itself (and
// the real HAPI CLI relies on socket.io-client's reconnection). A closed transport arrives as
// "transport close", and the client reconnects with its usual backoff — through the load
// balancer, to a host that is still ready. New handshakes on this worker are refused (HTTP 403)
// while it drains, so a reconnect that still lands here (e.g. on an open keep-alive connection)
// is retried elsewhere too.
import type { Server as HttpServer } from 'node:http';
import type { Socket as NetSocket } from 'node:net';
import type { Server as IoServer } from 'socket.io';
import type { Readiness } from '../ops/health.js';
import type { Logger } from '../ops/logger.js';

/** Sockets per batch: small enough that the survivors absorb each wave of reconnects. */
const DISCONNECT_BATCH_SIZE = 50;
/** Upper bound of the pause between batches; shortened when many batches must fit the budget. */
const MAX_BATCH_PAUSE_MS = 200;
/** Share of the drain budget spent on spreading disconnects out; the rest is for in-flight work. */
const DISCONNECT_BUDGET_SHARE = 0.25;
const POLL_MS = 25;

interface EngineClient {
  close(): void;
}

/** Open HTTP connections and engine.io clients of one hub, recorded from creation on. */
export interface ConnectionTracker {
  readonly connections: ReadonlySet<NetSocket>;
  /** The open engine.io clients, in connection order (engine.io's own registry, no copy kept). */
  engineClients(): EngineClient[];
}

export function trackConnections(http: HttpServer, io: IoServer): ConnectionTracker {
  const connections = new Set<NetSocket>();
  // One listener function for every socket: `once` would add a wrapper closure per connection.
  function forget(this: NetSocket): void {
    connections.delete(this);
  }
  // 'connection' fires both for sockets accepted by a listening server and for sockets the
  // cluster primary hands to a worker (cluster/worker.ts emits it on the worker's server).
  http.on('connection', (socket: NetSocket) => {
    connections.add(socket);
    socket.on('close', forget);
  });
  const engine = io.engine as unknown as { clients: Record<string, EngineClient> };
  return { connections, engineClients: () => Object.values(engine.clients) };
}

export interface DrainTarget {
  http: HttpServer;
  io: IoServer;
  readiness: Readiness;
  tracker: ConnectionTracker;
  /** Stops background work that must move to another worker (the presence sweeper's lock). */
  stopBackground(): Promise<void>;
  /** Ends open SSE streams so their clients resume (with their cursor) on another worker. */
  endStreams(): Promise<void>;
  log: Logger;
}

export interface DrainReport {
  socketsDisconnected: number;
  /** Connections still open at the deadline (closed forcibly by the caller's close()). */
  connectionsLeft: number;
  durationMs: number;
}

/** Drains until everything is closed or `deadlineAt` (epoch ms) passes. Never throws. */
export async function drainHub(target: DrainTarget, deadlineAt: number): Promise<DrainReport> {
  const { http, io, readiness, tracker, log } = target;
  const startedAt = Date.now();
  readiness.draining = true;

  // Refuse new Socket.IO sessions; requests of existing sessions are unaffected (engine.io only
  // consults allowRequest on handshakes).
  io.engine.opts.allowRequest = (_req, callback) => callback('draining', false);
  // Keep-alive connections would otherwise carry the next request of a client to this worker.
  http.prependListener('request', (_req, res) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  });
  // A single-process hub owns its listening socket; in a cluster the primary has already closed
  // the shared one, and this server never listened.
  if (http.listening) http.close();

  await target
    .stopBackground()
    .catch((error: unknown) => log.warn({ err: error }, 'drain: stopping background work failed'));

  const clients = tracker.engineClients();
  const batches = Math.ceil(clients.length / DISCONNECT_BATCH_SIZE);
  const budget = Math.max(0, deadlineAt - Date.now()) * DISCONNECT_BUDGET_SHARE;
  const pauseMs = batches > 1 ? Math.min(MAX_BATCH_PAUSE_MS, budget / (batches - 1)) : 0;
  for (let batch = 0; batch < batches; batch++) {
    for (const client of clients.slice(batch * DISCONNECT_BATCH_SIZE, (batch + 1) * DISCONNECT_BATCH_SIZE))
      client.close();
    if (batch < batches - 1 && pauseMs > 0) await delay(pauseMs);
  }

  await target.endStreams().catch((error: unknown) => log.warn({ err: error }, 'drain: ending SSE streams failed'));

  // In-flight requests finish on their own; idle keep-alive connections are closed as they go idle.
  while (tracker.connections.size > 0 && Date.now() < deadlineAt) {
    http.closeIdleConnections();
    await delay(Math.min(POLL_MS, Math.max(1, deadlineAt - Date.now())));
  }
  const report: DrainReport = {
    socketsDisconnected: clients.length,
    connectionsLeft: tracker.connections.size,
    durationMs: Date.now() - startedAt,
  };
  log.info(report, 'drained');
  return report;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
