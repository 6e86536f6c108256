// /api REST routes. Placeholder until the web-plane routes land.
import Router from '@koa/router';
import type { HubConfig } from '../config.js';
import type { Logger } from '../ops/logger.js';
import type { Services } from '../services/index.js';
import type { LiveEventSource } from './live-events.js';

export function createApiRouter(services: Services, config: HubConfig, live: LiveEventSource, log: Logger): Router {
  void services; void config; void live; void log;
  return new Router();
}
