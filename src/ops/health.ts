// /health (upstream shape, no auth), /ready (engine reachable and not draining). /metrics is not
// here: it is served on the internal metrics listener only (ops/metrics-listener.ts).
import Router from '@koa/router';
import type { HubMetrics } from './metrics.js';

export interface Readiness {
  draining: boolean;
}

/** What /ready asks of the storage: which kind it is and whether it answers. */
export interface StorageProbe {
  readonly kind: string;
  ping(): Promise<void>;
}

export function createOpsRouter(engine: StorageProbe, metrics: HubMetrics, readiness: Readiness): Router {
  const router = new Router();
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok', protocolVersion: 1, capabilities: { workGraph: false, titleSuggestion: false } };
  });
  router.get('/ready', async (ctx) => {
    if (readiness.draining) {
      ctx.status = 503;
      ctx.body = { ready: false, reason: 'draining' };
      return;
    }
    const stop = metrics.engineLatency.startTimer();
    try {
      await engine.ping();
      stop();
      ctx.body = { ready: true, engine: engine.kind };
    } catch {
      ctx.status = 503;
      ctx.body = { ready: false, reason: 'engine unreachable' };
    }
  });
  return router;
}
