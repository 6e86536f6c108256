// Picks the engine from configuration (config.engineKind: HAPI_ENGINE, or redis when REDIS_URL is
// set, sqlite otherwise).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type HubConfig } from '../config.js';
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

/** The sqlite engine's database file inside HAPI_DATA_DIR. */
export const SQLITE_FILE_NAME = 'hub.db';

export async function createEngine(config: HubConfig): Promise<Engine> {
  if (config.engineKind === 'memory') return createMemoryEngine(engineOptions(config));
  if (config.engineKind === 'sqlite') {
    // 0700: the file holds the hub token, the JWT secret and every tenant's messages.
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const { createSqliteEngine } = await importSqliteEngine();
    return createSqliteEngine(join(config.dataDir, SQLITE_FILE_NAME), engineOptions(config), config.sqliteSync);
  }
  if (!config.redisUrl) throw new Error('the redis engine needs REDIS_URL');
  const { createRedisEngine } = await import('./redis/engine.js');
  return createRedisEngine(config.redisUrl, engineOptions(config));
}

/**
 * Imported on demand: node:sqlite is built into Node 22.13+ (22.5+ behind a flag); the other
 * engines run on any Node, and an older Node asked for sqlite gets a sentence, not a stack.
 */
async function importSqliteEngine(): Promise<typeof import('./sqlite/engine.js')> {
  try {
    return await import('./sqlite/engine.js');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ERR_UNKNOWN_BUILTIN_MODULE') {
      throw new ConfigError(
        `Invalid configuration:\n  HAPI_ENGINE: sqlite needs node:sqlite (Node 22.13 or newer); this is Node ${process.versions.node}`,
        { cause: error },
      );
    }
    throw error;
  }
}
