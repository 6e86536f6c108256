import type { Engine } from '../engine/engine.js';
import type { Logger } from '../ops/logger.js';
import type { Clock } from './clock.js';
import type { EventFeed } from './events.js';
import type { LimitsService } from './limits.js';
import type { CliGateway } from './ports.js';

export interface ServiceTimings {
  sessionTtlMs: number;
  machineTtlMs: number;
  /** Keep-alive driven SSE updates are sent at most this often unless something visible changed. */
  aliveBroadcastThrottleMs: number;
  /** How long a web prompt keeps an active session "thinking" before the CLI says otherwise. */
  queuedThinkingGraceMs: number;
  rpcTimeoutMs: number;
  rpcLongTimeoutMs: number;
  /** Keep-alives arriving within this window on one worker go to the engine together (0: one by one). */
  presenceBatchMs: number;
}

export const DEFAULT_TIMINGS: ServiceTimings = {
  sessionTtlMs: 30_000,
  machineTtlMs: 45_000,
  aliveBroadcastThrottleMs: 10_000,
  queuedThinkingGraceMs: 15_000,
  rpcTimeoutMs: 30_000,
  rpcLongTimeoutMs: 120_000,
  presenceBatchMs: 20,
};

export interface ServiceDeps {
  engine: Engine;
  events: EventFeed;
  cli: CliGateway;
  clock: Clock;
  log: Logger;
  timings: ServiceTimings;
  /** Multi-tenant limits (services/limits.ts): every service that admits work asks it. */
  limits: LimitsService;
}
