// The cluster primary of one host (HAPI_WORKERS > 1): owns the listening socket and hands each
// connection to a worker (`chooseWorker` below: least connections of the connection's kind, or —
// for a long-polling request that names its engine.io `sid` — the worker whose slot the sid
// names; docs/design.md#connection-hand-over), restarts crashed
// workers with a bounded backoff, serves the host's aggregated metrics on the internal metrics
// listener (HAPI_METRICS_PORT; the workers' registries collected over IPC), and on SIGTERM/SIGINT
// drains the host within HAPI_DRAIN_TIMEOUT_MS.
//
// The primary reads only a connection's first request line (cluster/request-line.ts), then sends
// the descriptor with the bytes it read to the worker, which parses and serves the connection for
// its whole life: kept-alive REST, request bodies, SSE and WebSocket never pass through here.
//
// Drain, as seen from here: stop accepting (close the listening socket — the load balancer's next
// connect is refused and retried on another host, and its /ready checks fail), ask every worker to
// drain before `deadline - margin` (each one turns readiness off, moves its Socket.IO clients
// away in batches, ends SSE streams and finishes in-flight requests, then exits), and SIGKILL
// whatever is still running at the deadline.
import cluster, { type Worker } from 'node:cluster';
import { createServer, Socket as NetSocket } from 'node:net';
import { AggregatorRegistry } from 'prom-client';
import type { HubConfig } from '../config.js';
import { withHubNodeFlags } from '../config/node-flags.js';
import type { Logger } from '../ops/logger.js';
import { startMetricsListener, type MetricsListener } from '../ops/metrics-listener.js';
import {
  ConnectionsClosedMessageSchema,
  exitMarginMs,
  MetricsResponseMessageSchema,
  WORKER_SLOT_ENV,
  WorkerReadyMessageSchema,
  type ConnectionKind,
  type ConnectionMessage,
  type DrainMessage,
  type MetricsRequestMessage,
} from './messages.js';
import { readRequestLine } from './request-line.js';
import { ENGINE_IO_PATH, sessionIdOfTarget, slotOfSessionId } from './session-id.js';

/** Restart delay after the n-th consecutive early crash of a slot: 100 ms doubling, capped. */
const RESTART_BASE_DELAY_MS = 100;
const RESTART_MAX_DELAY_MS = 10_000;
/** A worker that ran this long before exiting counts as healthy: its slot's backoff resets. */
const HEALTHY_RUN_MS = 30_000;
/** How long a scrape waits for a worker's registry; a late worker is left out (and said so). */
const METRICS_WORKER_TIMEOUT_MS = 3_000;
/** Bounds the wait for 'exit' events after the stragglers were killed. */
const KILL_WAIT_MS = 1_000;
/** How long a rejected connection (400, 503) may stay open after its answer. */
const REJECT_LINGER_MS = 2_000;

interface Slot {
  index: number;
  worker: Worker | null;
  startedAt: number;
  consecutiveFailures: number;
  restartTimer: NodeJS.Timeout | null;
}

interface GatedWorker {
  slot: Slot;
  ready: boolean;
  /** Connections of each kind handed to this worker and not yet reported closed by it. */
  connections: Record<ConnectionKind, number>;
  /** When this worker was last chosen for a kind (a sequence number): ties go to the longest unchosen. */
  chosenAt: Record<ConnectionKind, number>;
  /** Flushes messages (and connection handles) held back until the worker reported ready. */
  open(): void;
  /** Drops held messages: answers their connections 503 and closes them. */
  discard(): void;
}

/** Runs the primary until it has drained; resolves with the process exit code. */
export function runPrimary(config: HubConfig, log: Logger): Promise<number> {
  // Buffers must cross IPC as Buffers (a hand-over carries the bytes the primary already read).
  cluster.setupPrimary({ serialization: 'advanced', execArgv: withHubNodeFlags(process.execArgv) });

  const slots: Slot[] = Array.from({ length: config.workers }, (_, index) => ({
    index,
    worker: null,
    startedAt: 0,
    consecutiveFailures: 0,
    restartTimer: null,
  }));
  const gates = new Map<Worker, GatedWorker>();
  let listening = false;
  let draining = false;
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => {
    resolveExit = resolve;
  });

  const fork = (slot: Slot): void => {
    slot.restartTimer = null;
    // The slot names the worker in the engine.io session ids it creates (cluster/session-id.ts).
    const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(slot.index) });
    slot.worker = worker;
    slot.startedAt = Date.now();
    gates.set(worker, gateUntilReady(worker, slot));
    log.info({ slot: slot.index, worker: worker.id, workerPid: worker.process.pid }, 'worker started');
  };

  // The worker for a new connection: the one whose slot a long-polling request's sid names (its
  // session lives there), else the ready one with the fewest open connections of the same kind —
  // Socket.IO connections and REST/SSE ones are balanced separately, so idle kept-alive REST
  // connections (or a load balancer's health checks) do not push CLIs onto one worker. A worker
  // still starting is chosen only when none is ready (its gate holds the connection until it is):
  // one that cannot start (its Redis unreachable) must not collect connections that a ready
  // worker could serve. A restarted worker, having none, takes the next ones once it is ready.
  let choices = 0;
  const chooseWorker = (target: string, kind: ConnectionKind): { worker: Worker; gate: GatedWorker } | null => {
    const sid = kind === 'engine' ? sessionIdOfTarget(target, ENGINE_IO_PATH) : null;
    const slotIndex = sid === null ? null : slotOfSessionId(sid);
    const owner = slotIndex === null ? null : (slots[slotIndex]?.worker ?? null);
    const ownerGate = owner ? gates.get(owner) : undefined;
    if (owner && ownerGate) return { worker: owner, gate: ownerGate };
    let best: { worker: Worker; gate: GatedWorker } | null = null;
    for (const [worker, gate] of gates) {
      const open = gate.connections[kind];
      const better =
        best === null ||
        (gate.ready && !best.gate.ready) ||
        (gate.ready === best.gate.ready &&
          (open < best.gate.connections[kind] ||
            (open === best.gate.connections[kind] && gate.chosenAt[kind] < best.gate.chosenAt[kind])));
      if (better) best = { worker, gate };
    }
    if (best) best.gate.chosenAt[kind] = ++choices;
    return best;
  };

  const onConnection = (socket: NetSocket): void => {
    // A reset before the hand-over must not become an uncaught error; 'close' follows.
    socket.on('error', ignoreError);
    readRequestLine(socket, (line) => {
      if (line.kind === 'gone') {
        socket.destroy();
        return;
      }
      if (line.kind === 'bad') {
        reject(socket, 400, 'Bad Request');
        return;
      }
      const kind: ConnectionKind = line.target.startsWith(ENGINE_IO_PATH) ? 'engine' : 'http';
      const chosen = chooseWorker(line.target, kind);
      if (!chosen) {
        reject(socket, 503, 'Service Unavailable');
        return;
      }
      const { worker, gate } = chosen;
      gate.connections[kind]++;
      const message: ConnectionMessage = { type: 'hapi:connection', head: line.head, kind };
      worker.send(message, socket, (error: Error | null) => {
        if (!error) return;
        gate.connections[kind] = Math.max(0, gate.connections[kind] - 1);
        // The worker is gone (e.g. killed, its exit not seen yet) and the handle is still ours.
        reject(socket, 503, 'Service Unavailable');
      });
    });
  };
  const server = createServer(onConnection);

  // The host's metrics: the registries of the workers that are ready (one still starting or just
  // gone is not asked, so a worker restart does not fail scrapes), summed by prom-client. A worker
  // that does not answer in time is left out and named in a comment line of the exposition.
  let nextMetricsRequest = 1;
  const pendingMetrics = new Map<number, (metrics: object[]) => void>();
  const workerMetrics = (worker: Worker): Promise<object[] | null> =>
    new Promise((resolve) => {
      const requestId = nextMetricsRequest++;
      const timer = setTimeout(() => {
        pendingMetrics.delete(requestId);
        resolve(null);
      }, METRICS_WORKER_TIMEOUT_MS);
      pendingMetrics.set(requestId, (metrics) => {
        clearTimeout(timer);
        pendingMetrics.delete(requestId);
        resolve(metrics);
      });
      const request: MetricsRequestMessage = { type: 'hapi:metrics-request', requestId };
      worker.send(request);
    });
  const hostMetrics = async (): Promise<string> => {
    const ready = [...gates].filter(([worker, gate]) => gate.ready && worker.isConnected()).map(([w]) => w);
    const answers = await Promise.all(ready.map(workerMetrics));
    const answered = answers.filter((metrics): metrics is object[] => metrics !== null);
    if (ready.length > 0 && answered.length === 0) throw new Error('no worker answered the metrics request');
    const text = await AggregatorRegistry.aggregate(answered).metrics();
    const missing = ready.filter((_, i) => answers[i] === null).map((worker) => worker.id);
    return missing.length > 0 ? `# hapi: workers ${missing.join(', ')} did not answer; not included\n${text}` : text;
  };

  // Bound with the public port; a port that cannot be bound stops the host like the public one.
  let metricsListener: Promise<MetricsListener | null> = Promise.resolve(null);
  const listenForMetrics = (address: { host: string; port: number }): void => {
    const source = { contentType: AggregatorRegistry.PROMETHEUS_CONTENT_TYPE, render: hostMetrics };
    metricsListener = startMetricsListener(address, source, log).catch((error: unknown) => {
      log.fatal({ err: error, host: address.host, port: address.port }, 'cannot listen for metrics');
      void drain('metrics listen failed', 1);
      return null;
    });
  };

  const listen = (): void => {
    if (listening || draining) return;
    listening = true;
    if (config.metricsListen) listenForMetrics(config.metricsListen);
    server.once('error', (error) => {
      log.fatal({ err: error, host: config.listenHost, port: config.listenPort }, 'cannot listen');
      void drain('listen failed', 1);
    });
    server.listen(config.listenPort, config.listenHost, () => {
      log.info(
        { host: config.listenHost, port: config.listenPort, workers: config.workers },
        'hub listening (cluster primary)',
      );
    });
  };

  cluster.on('message', (worker, message: unknown) => {
    if (WorkerReadyMessageSchema.safeParse(message).success) {
      const gate = gates.get(worker);
      if (!gate) return;
      gate.open();
      log.info({ slot: gate.slot.index, worker: worker.id }, 'worker ready');
      // Listen as soon as one worker can serve; connections handed to a worker still starting
      // are held for it by its gate.
      listen();
      return;
    }
    const closed = ConnectionsClosedMessageSchema.safeParse(message);
    if (closed.success) {
      const gate = gates.get(worker);
      if (gate) {
        gate.connections.engine = Math.max(0, gate.connections.engine - closed.data.engine);
        gate.connections.http = Math.max(0, gate.connections.http - closed.data.http);
      }
      return;
    }
    const metrics = MetricsResponseMessageSchema.safeParse(message);
    if (metrics.success) pendingMetrics.get(metrics.data.requestId)?.(metrics.data.metrics);
  });

  cluster.on('exit', (worker, code, signal) => {
    const gate = gates.get(worker);
    gates.delete(worker);
    gate?.discard();
    const slot = gate?.slot;
    if (slot && slot.worker === worker) slot.worker = null;
    if (draining) {
      log.info({ worker: worker.id, code, signal }, 'worker exited');
      if (slots.every((s) => s.worker === null)) finish();
      return;
    }
    if (!slot) return;
    const ranMs = Date.now() - slot.startedAt;
    slot.consecutiveFailures = ranMs >= HEALTHY_RUN_MS ? 0 : slot.consecutiveFailures + 1;
    const delayMs = Math.min(
      RESTART_BASE_DELAY_MS * 2 ** Math.max(0, slot.consecutiveFailures - 1),
      RESTART_MAX_DELAY_MS,
    );
    log.error(
      { slot: slot.index, worker: worker.id, code, signal, ranMs, restartInMs: delayMs },
      'worker died; restarting',
    );
    slot.restartTimer = setTimeout(() => fork(slot), delayMs);
  });

  let finishTimer: NodeJS.Timeout | null = null;
  let exitCode = 0;
  const finish = (): void => {
    if (finishTimer) clearTimeout(finishTimer);
    log.info({ code: exitCode }, 'primary exiting');
    void metricsListener.then((listener) => listener?.close()).finally(() => resolveExit(exitCode));
  };

  const drain = (reason: string, code = 0): Promise<number> => {
    if (draining) return exited;
    draining = true;
    exitCode = code;
    const startedAt = Date.now();
    const deadlineAt = startedAt + config.drainTimeoutMs;
    const margin = exitMarginMs(config.drainTimeoutMs);
    log.info({ reason, drainTimeoutMs: config.drainTimeoutMs }, 'draining host');
    server.close();
    for (const slot of slots) {
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      slot.restartTimer = null;
      const worker = slot.worker;
      if (!worker) continue;
      const gate = gates.get(worker);
      if (gate?.ready) {
        const message: DrainMessage = { type: 'hapi:drain', deadlineAt: deadlineAt - margin };
        worker.send(message);
      } else {
        // Still starting: it has no clients yet, so it can simply stop.
        worker.process.kill('SIGTERM');
      }
    }
    if (slots.every((s) => s.worker === null)) {
      finish();
      return exited;
    }
    finishTimer = setTimeout(
      () => {
        const stragglers = slots.flatMap((s) => (s.worker ? [s.worker] : []));
        log.warn({ workers: stragglers.map((w) => w.id) }, 'drain deadline reached; killing workers still running');
        for (const worker of stragglers) worker.process.kill('SIGKILL');
        // 'exit' events follow the kills and call finish(); this bounds the wait if one is lost.
        finishTimer = setTimeout(finish, KILL_WAIT_MS);
      },
      Math.max(0, deadlineAt - Date.now()),
    );
    return exited;
  };

  process.once('SIGTERM', () => void drain('SIGTERM'));
  process.once('SIGINT', () => void drain('SIGINT'));

  for (const slot of slots) fork(slot);
  return exited;
}

/**
 * Wraps `worker.send`, through which connections are handed over, to fix two races:
 *
 * - Not ready yet: a new connection may go to a worker that was just forked and cannot receive
 *   yet (a restarted worker has the fewest connections); a handle delivered before its listeners
 *   exist would be lost, leaving the client hanging. So everything sent to a worker is held back
 *   until it reports `hapi:ready`.
 * - Bytes eaten by the primary: Node's child_process, when it sends a socket, only sets the
 *   primary's copy of the handle to discard what it reads (`onread = nop`) and closes it when
 *   the worker's NODE_HANDLE_ACK arrives — it keeps reading until then. The client, meanwhile,
 *   already talks to the worker (e.g. the Socket.IO CONNECT right after the WebSocket
 *   handshake); whatever the primary reads first is silently dropped, and that client's
 *   connection never completes. Observed here about once in 300 connections under load. Reading
 *   is therefore stopped on the primary's side before the handle is sent (and while it is held):
 *   unread bytes stay in the kernel for the worker.
 */
function gateUntilReady(worker: Worker, slot: Slot): GatedWorker {
  const original = worker.send;
  const held: unknown[][] = [];
  const gate: GatedWorker = {
    slot,
    ready: false,
    connections: { engine: 0, http: 0 },
    chosenAt: { engine: 0, http: 0 },
    open() {
      if (gate.ready) return;
      gate.ready = true;
      for (const args of held.splice(0)) Reflect.apply(original, worker, args);
    },
    discard() {
      for (const args of held.splice(0)) {
        const handle = args[1];
        // Its request head was read here: the client gets an answer, not a reset.
        if (isNetSocket(handle)) reject(handle, 503, 'Service Unavailable');
        const callback = args.find((arg): arg is (error: Error | null) => void => typeof arg === 'function');
        callback?.(new Error('worker exited before it was ready'));
      }
    },
  };
  worker.send = (...args: unknown[]): boolean => {
    const handle = args[1];
    if (isNetSocket(handle)) {
      stopReading(handle);
      releaseAfterHandOver(args, handle);
    }
    if (!gate.ready) {
      held.push(args);
      return true;
    }
    return Reflect.apply(original, worker, args) as boolean;
  };
  return gate;
}

/**
 * Once a connection's handle has gone to a worker, the primary's `net.Socket` is an empty shell
 * (Node moved its handle out), but nothing ever closes it: it never emits 'close', so whatever
 * holds it (the listeners attached to it; with @socket.io/sticky's HTTP server in the primary,
 * also that server's connection tracking and parser — about 14 KiB per connection, most of what
 * once made a 2-worker host carry 2.6× the memory per idle CLI) keeps it for the life of the
 * primary. When the send has completed (its callback
 * runs; a send may wait in Node's handle queue first) and the socket no longer owns a handle,
 * destroying it frees all that without touching the descriptor the worker now owns.
 */
function releaseAfterHandOver(args: unknown[], socket: NetSocket): void {
  const at = args.findIndex((arg, i) => i > 1 && typeof arg === 'function');
  const callback = at >= 0 ? (args[at] as (error: Error | null) => void) : undefined;
  const release = (error: Error | null): void => {
    if (!error && !handleOf(socket)) socket.destroy();
    callback?.(error);
  };
  if (at >= 0) args[at] = release;
  else args.push(release);
}

function handleOf(socket: NetSocket): unknown {
  return (socket as unknown as { _handle?: unknown })._handle ?? null;
}

/** Stops libuv reading on the primary's copy of a socket that is being handed to a worker. */
function stopReading(socket: NetSocket): void {
  // `_handle` is Node's internal TCP wrap (not in the public typings); readStop() removes the fd
  // from this process's poll set without closing it.
  const handle = (socket as unknown as { _handle?: { readStop?: () => number } | null })._handle;
  handle?.readStop?.();
}

function isNetSocket(value: unknown): value is NetSocket {
  return value instanceof NetSocket;
}

function ignoreError(): void {}

/**
 * Answers a connection the primary cannot hand over (not HTTP; no worker at all) and closes it.
 * What the client still sends is read and dropped, so closing does not reset the connection
 * under the answer; the close is bounded in time either way.
 */
function reject(socket: NetSocket, status: number, reason: string): void {
  socket.on('data', ignoreError);
  socket.resume();
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  setTimeout(() => socket.destroy(), REJECT_LINGER_MS).unref();
}
