// Composition root: one worker's HTTP server, Socket.IO /cli namespace, Koa app and services.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { Server as IoServer } from 'socket.io';
import { createCliGateway } from '../cli-plane/gateway.js';
import { installAttachedSocketCounting, installHandshake } from '../cli-plane/handshake.js';
import { releaseFrameMasks } from '../cli-plane/release-frame-masks.js';
import { releaseHandshakeRequests } from '../cli-plane/release-requests.js';
import { createCliRouter } from '../cli-plane/rest-routes.js';
import { installCliHandlers } from '../cli-plane/socket-handlers.js';
import { ENGINE_IO_PATH } from '../cluster/session-id.js';
import type { HubConfig } from '../config.js';
import type { Engine } from '../engine/engine.js';
import { cors, isOriginAllowed } from '../http/cors.js';
import { installJsonFallbacks, jsonErrors } from '../http/errors.js';
import { staticFiles } from '../http/static-files.js';
import { createOpsRouter, type Readiness } from '../ops/health.js';
import { createErrorLogLimiter, type ErrorLogLimiter } from '../ops/error-log-limiter.js';
import type { Logger } from '../ops/logger.js';
import { createMetrics, type HubMetrics } from '../ops/metrics.js';
import { systemClock, type Clock } from '../services/clock.js';
import { DEFAULT_TIMINGS } from '../services/deps.js';
import { EventFeed } from '../services/events.js';
import { createServices, type Services } from '../services/index.js';
import { LimitsService } from '../services/limits.js';
import { createWebPlane } from '../web-plane/index.js';
import { jwtAuth } from '../web-plane/jwt-auth.js';
import { drainHub, trackConnections, type DrainReport } from './drain.js';

type AdapterFactory = NonNullable<ConstructorParameters<typeof IoServer>[1]>['adapter'];
type RequestHandler = ReturnType<Koa['callback']>;

export interface HubOptions {
  config: HubConfig;
  engine: Engine;
  log: Logger;
  clock?: Clock;
  /** Socket.IO adapter (Redis adapter in a cluster); the in-memory default otherwise. */
  adapter?: AdapterFactory;
  /** Run the presence sweeper (default true). Tests drive it by hand with an injected clock. */
  startSweeper?: boolean;
}

export interface Hub {
  http: HttpServer;
  io: IoServer;
  services: Services;
  metrics: HubMetrics;
  readiness: Readiness;
  /** Event names the /cli handlers know (for tests that must cover every event). */
  cliEvents: readonly string[];
  /** Every HTTP route of the Koa app as `METHOD /path` (for tests that must cover every route). */
  httpRoutes: readonly string[];
  listen(port?: number, host?: string): Promise<number>;
  /**
   * Graceful drain before close() (SIGTERM): readiness off, stop accepting, Socket.IO clients
   * disconnected in batches so they reconnect elsewhere, SSE streams ended, in-flight requests
   * finished — until `deadlineAt` (epoch ms). See cluster/drain.ts.
   */
  drain(deadlineAt: number): Promise<DrainReport>;
  close(): Promise<void>;
}

/** `METHOD /path` of every route layer (nested routers are flattened into their parent's stack). */
function routesOf(routers: { stack: { methods: string[]; path: string | RegExp }[] }[]): string[] {
  const routes = new Set<string>();
  for (const router of routers) {
    for (const layer of router.stack) {
      // router.all() lists every HTTP method; it is one route.
      if (layer.methods.length > 10) routes.add(`ALL ${String(layer.path)}`);
      else for (const method of layer.methods) if (method !== 'HEAD') routes.add(`${method} ${String(layer.path)}`);
    }
  }
  return [...routes].sort();
}

export async function createHub(options: HubOptions): Promise<Hub> {
  const { config, engine, log } = options;
  const metrics = createMetrics();
  const clientErrorLog = createErrorLogLimiter(log, metrics);
  const readiness: Readiness = { draining: false };
  const { http, io, serveWith } = createServers(config, options.adapter);
  const cliNamespace = io.of('/cli');
  const connections = trackConnections(http, io);

  const services = createServices(
    {
      engine,
      events: new EventFeed(engine, log),
      cli: createCliGateway(cliNamespace),
      clock: options.clock ?? systemClock,
      log,
      limits: new LimitsService(engine, config.limits, {
        refused: (namespace, refusal) =>
          metrics.limitRefusals.inc({ namespace, reason: refusal.reason, limit: refusal.limit }),
        evicted: (namespace, messages) => metrics.limitEvictedMessages.inc({ namespace }, messages),
      }),
      timings: {
        ...DEFAULT_TIMINGS,
        sessionTtlMs: config.sessionTtlMs,
        machineTtlMs: config.machineTtlMs,
        rpcTimeoutMs: config.rpcTimeoutMs,
        rpcLongTimeoutMs: config.rpcLongTimeoutMs,
      },
    },
    {
      cliApiToken: config.cliApiToken,
      jwtSecret: config.jwtSecret,
      globalTokenEnabled: config.globalTokenEnabled,
      namespaceRegistration: config.namespaceRegistration,
    },
    config.sweepIntervalMs,
  );
  await services.auth.init();
  const stopAliveWatch = await services.sessions.watchEvents();

  installHandshake(cliNamespace, services, config.namespaceAuth);
  installAttachedSocketCounting(cliNamespace, services, (error) =>
    log.warn({ err: error }, 'attached-socket uncount failed'),
  );
  const cliEvents = installCliHandlers(cliNamespace, services, log, metrics.cli, clientErrorLog);

  const web = await createWebPlane(services, config, metrics, log);
  const { app, httpRoutes } = createApp({
    config,
    engine,
    log,
    metrics,
    readiness,
    services,
    webRouter: web.router,
    clientErrorLog,
  });
  serveWith(app.callback());
  // drain() ends the SSE streams before close() runs; the web plane is closed once.
  let webClosed: Promise<void> | null = null;
  const closeWeb = (): Promise<void> => (webClosed ??= web.close());

  if (options.startSweeper !== false) services.sweeper.start();
  services.limits.start();

  return {
    http,
    io,
    services,
    metrics,
    readiness,
    cliEvents,
    httpRoutes,
    listen(port = config.listenPort, host = config.listenHost) {
      return new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          http.off('error', reject);
          resolve((http.address() as AddressInfo).port);
        });
      });
    },
    drain(deadlineAt) {
      return drainHub(
        {
          http,
          io,
          readiness,
          tracker: connections,
          log,
          stopBackground: () => services.sweeper.stop(),
          endStreams: closeWeb,
        },
        deadlineAt,
      );
    },
    async close() {
      readiness.draining = true;
      services.limits.stop();
      await services.limits.flush().catch((error: unknown) => log.warn({ err: error }, 'limits flush failed'));
      await services.sweeper.stop();
      await stopAliveWatch();
      await closeWeb();
      // `local`: with the Redis adapter a plain disconnectSockets() is broadcast to every worker of
      // the cluster, and closing one worker must not disconnect the others' clients.
      io.local.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
      http.closeAllConnections();
    },
  };
}

/**
 * The HTTP server and Socket.IO on it. Socket.IO wraps the server's request listener and passes
 * on everything that is not /socket.io/, so the Koa handler is bound later, through `serveWith`.
 */
function createServers(
  config: HubConfig,
  adapter: AdapterFactory | undefined,
): { http: HttpServer; io: IoServer; serveWith(handler: RequestHandler): void } {
  let handler: RequestHandler | null = null;
  const http = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    if (handler) void handler(req, res);
    else {
      res.statusCode = 503;
      res.end(JSON.stringify({ error: 'Starting' }));
    }
  });
  const io = new IoServer(http, {
    path: ENGINE_IO_PATH,
    maxHttpBufferSize: config.maxHttpBufferBytes,
    cors: {
      origin: config.corsOrigins === '*' ? '*' : config.corsOrigins,
      methods: ['GET', 'POST'],
      credentials: false,
    },
    allowRequest: (req, callback) => {
      const allowed = isOriginAllowed(req.headers.origin, config.corsOrigins);
      callback(allowed ? null : 'Origin not allowed', allowed);
    },
    // The `io` cookie lets a load balancer keep long-polling requests on one host.
    cookie: { name: 'io', path: '/', httpOnly: true, sameSite: 'lax' },
    ...(adapter ? { adapter } : {}),
  });
  releaseHandshakeRequests(io);
  releaseFrameMasks(io);
  return { http, io, serveWith: (next) => (handler = next) };
}

interface AppParts {
  config: HubConfig;
  engine: Engine;
  log: Logger;
  metrics: HubMetrics;
  readiness: Readiness;
  services: Services;
  webRouter: Awaited<ReturnType<typeof createWebPlane>>['router'];
  clientErrorLog: ErrorLogLimiter;
}

/**
 * The Koa app: JSON errors (also for failures while a response is written) and CORS first, then
 * ops, /cli REST, and the JWT-guarded /api. Also returns every route as `METHOD /path`.
 */
function createApp({ config, engine, metrics, readiness, services, webRouter, clientErrorLog }: AppParts): {
  app: Koa;
  httpRoutes: string[];
} {
  const app = new Koa();
  app.proxy = true;
  installJsonFallbacks(app, clientErrorLog);
  app.use(jsonErrors(clientErrorLog));
  app.use(cors(config.corsOrigins));
  const ops = createOpsRouter(engine, metrics, readiness);
  const cliRouter = createCliRouter(services, config.maxBodyBytes);
  app.use(ops.routes()).use(ops.allowedMethods());
  app.use(cliRouter.routes()).use(cliRouter.allowedMethods());
  app.use(jwtAuth(services.auth));
  app.use(webRouter.routes()).use(webRouter.allowedMethods());
  if (config.webDir) app.use(staticFiles(config.webDir));
  return { app, httpRoutes: routesOf([ops, cliRouter, webRouter]) };
}
