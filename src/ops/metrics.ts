// Prometheus metrics for one worker. In a multi-worker host each worker exposes its own
// registry; the primary aggregates them for GET /metrics (see cluster/).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface CliMetrics {
  connected(): void;
  disconnected(): void;
  eventIn(event: string): void;
  malformed(event: string): void;
  /** An event no handler knows (not labelled by name: clients choose names). */
  unknownEvent(): void;
}

export interface HubMetrics {
  registry: Registry;
  cli: CliMetrics;
  eventsOut: Counter<'type'>;
  rpcLatency: Histogram<'outcome'>;
  sseSubscribers: Gauge;
  sseResume: Counter<'verdict'>;
  sseDropped: Counter;
  presenceExpired: Counter<'kind'>;
  engineLatency: Histogram;
  clientErrors: Counter<'source'>;
  clientErrorLogsSuppressed: Counter<'source'>;
  /** Work refused over a tenant limit (config/limits.ts), by namespace, reason and limit. */
  limitRefusals: Counter<'namespace' | 'reason' | 'limit'>;
  /** Messages dropped under HAPI_LIMIT_HISTORY_POLICY=drop-archived. */
  limitEvictedMessages: Counter<'namespace'>;
}

export function createMetrics(): HubMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hapi_' });
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  new Gauge({
    name: 'hapi_event_loop_lag_p99_seconds',
    help: 'Event loop delay p99 since the last scrape (worst worker when aggregated)',
    registers: [registry],
    // Summing lag across workers would be meaningless; the primary's aggregate keeps the worst.
    aggregator: 'max',
    collect() {
      this.set(loopDelay.percentile(99) / 1e9);
      loopDelay.reset();
    },
  });
  const connections = new Gauge({
    name: 'hapi_cli_connections',
    help: 'Connected /cli sockets',
    registers: [registry],
  });

  const eventsIn = new Counter({
    name: 'hapi_cli_events_in_total',
    help: 'CLI socket events received',
    labelNames: ['event'],
    registers: [registry],
  });
  const malformed = new Counter({
    name: 'hapi_cli_events_malformed_total',
    help: 'CLI socket events dropped as malformed',
    labelNames: ['event'],
    registers: [registry],
  });
  const unknownEvents = new Counter({
    name: 'hapi_cli_events_unknown_total',
    help: 'CLI socket events with a name no handler knows',
    registers: [registry],
  });
  return {
    registry,
    cli: {
      connected: () => connections.inc(),
      disconnected: () => connections.dec(),
      eventIn: (event) => eventsIn.inc({ event }),
      malformed: (event) => malformed.inc({ event }),
      unknownEvent: () => unknownEvents.inc(),
    },
    eventsOut: new Counter({
      name: 'hapi_sse_events_out_total',
      help: 'SSE frames written',
      labelNames: ['type'],
      registers: [registry],
    }),
    rpcLatency: new Histogram({
      name: 'hapi_rpc_duration_seconds',
      help: 'RPC round-trip time by outcome',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers: [registry],
    }),
    sseSubscribers: new Gauge({ name: 'hapi_sse_subscribers', help: 'Open SSE connections', registers: [registry] }),
    sseResume: new Counter({
      name: 'hapi_sse_resume_total',
      help: 'SSE resume verdicts',
      labelNames: ['verdict'],
      registers: [registry],
    }),
    sseDropped: new Counter({
      name: 'hapi_sse_slow_consumer_closed_total',
      help: 'SSE connections closed for falling behind',
      registers: [registry],
    }),
    presenceExpired: new Counter({
      name: 'hapi_presence_expired_total',
      help: 'Presence expiries announced',
      labelNames: ['kind'],
      registers: [registry],
    }),
    engineLatency: new Histogram({
      name: 'hapi_engine_ping_seconds',
      help: 'Engine (Redis) round-trip time measured by readiness probes',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    }),
    clientErrors: new Counter({
      name: 'hapi_client_errors_total',
      help: 'Failures caused by a client request or event (handler errors, unserialisable responses), logged or not',
      labelNames: ['source'],
      registers: [registry],
    }),
    clientErrorLogsSuppressed: new Counter({
      name: 'hapi_client_error_logs_suppressed_total',
      help: 'Client-caused failures not logged because their connection or the worker was over its log budget',
      labelNames: ['source'],
      registers: [registry],
    }),
    limitRefusals: new Counter({
      name: 'hapi_limit_refusals_total',
      help: 'Events, requests and connections refused over a tenant limit',
      labelNames: ['namespace', 'reason', 'limit'],
      registers: [registry],
    }),
    limitEvictedMessages: new Counter({
      name: 'hapi_limit_evicted_messages_total',
      help: 'Messages of archived sessions dropped to keep a namespace under its history quota',
      labelNames: ['namespace'],
      registers: [registry],
    }),
  };
}
