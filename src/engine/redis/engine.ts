// The Redis engine: state shared by every worker on every host through one Redis (standalone,
// Sentinel or Cluster). This file only assembles the stores; each store owns one kind of state
// and its Lua scripts. See keys.ts for the key layout.
import type { Engine } from '../engine.js';
import type { EngineOptions } from '../types.js';
import { connectRedis, createRedisConnection } from '../../redis/connection.js';
import type { RedisContext } from './context.js';
import { createCoordination } from './coordination.js';
import { createDocumentStore } from './documents.js';
import { mapUnavailableErrors, toEngineError } from './errors.js';
import { RedisEventBus } from './event-bus.js';
import { createEventLog } from './event-log.js';
import { createLimitStore } from './limits.js';
import { createMachineStore } from './machines.js';
import { createMessageStore } from './messages.js';
import { createNamespaceRegistry } from './namespaces.js';
import { createPresenceStore } from './presence.js';
import { createRpcRouteTable } from './rpc-routes.js';
import { LuaScripts } from './scripts.js';
import { createSessionStore } from './sessions.js';

/**
 * Connects (bounded: throws EngineUnavailableError when Redis cannot be reached) and returns the
 * engine. Afterwards a Redis outage makes calls reject with EngineUnavailableError while the
 * connection keeps retrying in the background; no call waits for Redis to come back.
 */
export async function createRedisEngine(url: string, options: EngineOptions): Promise<Engine> {
  const client = createRedisConnection(url, 'commands');
  await connectRedis(client).catch((error: unknown) => Promise.reject(toEngineError(error)));
  // A subscribed connection cannot run other commands: the event bus has its own.
  const bus = new RedisEventBus(createRedisConnection(url, 'event-bus'));
  const scripts = new LuaScripts(client);
  await scripts.load().catch((error: unknown) => Promise.reject(toEngineError(error)));
  scripts.keepLoaded();
  const context: RedisContext = { client, scripts, options };
  return {
    kind: 'redis',
    sessions: mapUnavailableErrors(createSessionStore(context)),
    machines: mapUnavailableErrors(createMachineStore(context)),
    messages: mapUnavailableErrors(createMessageStore(context)),
    presence: mapUnavailableErrors(createPresenceStore(context)),
    namespaces: mapUnavailableErrors(createNamespaceRegistry(context)),
    rpcRoutes: mapUnavailableErrors(createRpcRouteTable(context)),
    events: mapUnavailableErrors(createEventLog(context, bus)),
    coordination: mapUnavailableErrors(createCoordination(context)),
    documents: mapUnavailableErrors(createDocumentStore(context)),
    limits: mapUnavailableErrors(createLimitStore(context)),
    async ping() {
      await client.ping().catch((error: unknown) => Promise.reject(toEngineError(error)));
    },
    async close() {
      await bus.close();
      await client.quit().catch(() => client.disconnect());
    },
  };
}
