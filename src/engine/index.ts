// Picks the engine from configuration: Redis when REDIS_URL is set, memory otherwise.
import type { HubConfig } from '../config.js';
import { createMemoryEngine } from './memory/engine.js';
import type { Engine } from './engine.js';
import type { EngineOptions } from './types.js';

export function engineOptions(config: HubConfig): EngineOptions {
  return {
    eventLogMaxEvents: config.eventLogMaxEvents,
    eventLogMaxBytes: config.eventLogMaxBytes,
    messageHistoryLimit: config.messageHistoryLimit,
  };
}

export async function createEngine(config: HubConfig): Promise<Engine> {
  if (!config.redisUrl) return createMemoryEngine(engineOptions(config));
  const { createRedisEngine } = await import('./redis/engine.js');
  return createRedisEngine(config.redisUrl, engineOptions(config));
}
