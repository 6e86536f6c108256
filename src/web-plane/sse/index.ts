// SSE plane of one worker: GET /api/events, POST /api/visibility and the live-event source API
// routes wait on. The worker holds exactly one engine event subscription; every event appended
// to any namespace's log (by any worker) arrives there once and is fanned out locally.
import type Router from '@koa/router';
import type { HubConfig } from '../../config.js';
import type { AppendedEvent } from '../../services/model.js';
import type { HubMetrics } from '../../ops/metrics.js';
import type { Logger } from '../../ops/logger.js';
import type { Services } from '../../services/index.js';
import type { LiveEventSource } from '../live-events.js';
import { decodeStoredEvent } from './decoded-event.js';
import { LiveWaiters } from './live-waiters.js';
import { LocalFanout } from './local-fanout.js';
import { createSseRouter } from './routes.js';
import { SubscriptionManager } from './subscriptions.js';
import { SharedSubscriptionDirectory } from './visibility.js';

export interface SsePlane {
  router: Router;
  live: LiveEventSource;
  close(): Promise<void>;
}

export async function createSsePlane(
  services: Services,
  config: HubConfig,
  metrics: HubMetrics,
  log: Logger,
): Promise<SsePlane> {
  const fanout = new LocalFanout();
  const waiters = new LiveWaiters();
  // Shared through the engine: POST /api/visibility may land on any worker of the cluster.
  const directory = new SharedSubscriptionDirectory(services.sharedValues);
  const subscriptions = new SubscriptionManager({
    events: services.events,
    fanout,
    directory,
    metrics,
    log,
    clock: services.deps.clock,
    heartbeatMs: config.sseHeartbeatMs,
    maxBufferedBytes: config.sseMaxBufferedBytes,
  });

  const onAppended = (appended: AppendedEvent): void => {
    const continuity = fanout.observe(appended.namespace, appended.epoch, appended.offset);
    if (continuity === 'duplicate') return;
    // After a hole the namespace's streams were just ended; waiters still get the event.
    const wantedBySse = continuity === 'next' && fanout.hasNamespace(appended.namespace);
    if (!wantedBySse && !waiters.hasWaiters(appended.namespace)) return; // nobody here cares
    const event = decodeStoredEvent(appended);
    if (!event) {
      log.warn({ namespace: appended.namespace, offset: appended.offset }, 'undecodable event in the log skipped');
      return;
    }
    if (wantedBySse) fanout.route(appended.namespace, appended.epoch, event);
    waiters.offer(appended.namespace, event.parsed);
  };
  const unsubscribe = await services.events.subscribe(onAppended);

  let open = true;
  const router = createSseRouter({ services, subscriptions, directory, isOpen: () => open });

  return {
    router,
    live: waiters,
    async close() {
      if (!open) return;
      open = false;
      subscriptions.closeAll();
      directory.close();
      waiters.close();
      await unsubscribe();
    },
  };
}
