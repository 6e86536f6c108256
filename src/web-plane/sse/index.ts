// SSE plane (GET /api/events, POST /api/visibility). Placeholder until the SSE work lands.
import Router from '@koa/router';
import type { HubConfig } from '../../config.js';
import type { HubMetrics } from '../../ops/metrics.js';
import type { Logger } from '../../ops/logger.js';
import type { Services } from '../../services/index.js';
import type { LiveEventSource } from '../live-events.js';

export interface SsePlane {
  router: Router;
  live: LiveEventSource;
  close(): Promise<void>;
}

export async function createSsePlane(services: Services, config: HubConfig, metrics: HubMetrics, log: Logger): Promise<SsePlane> {
  void services; void config; void metrics; void log;
  return { router: new Router(), live: { waitFor: async () => null }, close: async () => undefined };
}
