// Picks the engine from configuration: Redis when REDIS_URL is set, memory otherwise.
import type { HubConfig } from '../config.js';
import { MemoryEngine } from './memory/memory-engine.js';
import type { Engine, EngineOptions } from './types.js';

export function engineOptions(config: HubConfig): EngineOptions {
  return {
    eventLogMaxEvents: config.eventLogMaxEvents,
    eventLogMaxBytes: config.eventLogMaxBytes,
    messageHistoryLimit: config.messageHistoryLimit,
  };
}

export async function createEngine(config: HubConfig): Promise<Engine> {
  if (!config.redisUrl) return new MemoryEngine(engineOptions(config));
  const { createRedisEngine } = await import('./redis/redis-engine.js');
  return createRedisEngine(config.redisUrl, engineOptions(config));
}
