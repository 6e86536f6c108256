// Web plane: /api routes and SSE. (Filled in by the web-plane work.)
import Router from '@koa/router';
import type { HubConfig } from '../config.js';
import type { HubMetrics } from '../ops/metrics.js';
import type { Logger } from '../ops/logger.js';
import type { Services } from '../services/index.js';

export interface WebPlane {
  router: Router;
  close(): Promise<void>;
}

export async function createWebPlane(services: Services, config: HubConfig, metrics: HubMetrics, log: Logger): Promise<WebPlane> {
  void services;
  void config;
  void metrics;
  void log;
  return { router: new Router(), close: async () => undefined };
}
