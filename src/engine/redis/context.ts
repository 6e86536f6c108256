// What every part of the Redis engine shares: the command connection, the loaded scripts and
// the engine options.
import type { EngineOptions } from '../types.js';
import type { RedisClient } from '../../redis/connection.js';
import type { LuaScripts } from './scripts.js';

export interface RedisContext {
  client: RedisClient;
  scripts: LuaScripts;
  options: EngineOptions;
}
