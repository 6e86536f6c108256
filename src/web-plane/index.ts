// Web plane: the /api REST routes and the SSE stream. (JWT auth is applied app-wide in hub.ts
// through jwtAuth, so unknown /api paths also answer 401 before 404, as upstream.)
import Router from '@koa/router';
import type { HubConfig } from '../config.js';
import type { HubMetrics } from '../ops/metrics.js';
import type { Logger } from '../ops/logger.js';
import type { Services } from '../services/index.js';
import { createApiRouter } from './api-router.js';
import { createSsePlane } from './sse/index.js';

export interface WebPlane {
  router: Router;
  close(): Promise<void>;
}

export async function createWebPlane(
  services: Services,
  config: HubConfig,
  metrics: HubMetrics,
  log: Logger,
): Promise<WebPlane> {
  const sse = await createSsePlane(services, config, metrics, log);
  const api = createApiRouter(services, config, sse.live, log);
  const router = new Router();
  router.use(sse.router.routes(), sse.router.allowedMethods());
  router.use(api.routes(), api.allowedMethods());
  return { router, close: () => sse.close() };
}
