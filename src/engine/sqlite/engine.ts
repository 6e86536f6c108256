// Single-process persistent engine on node:sqlite: one database file (WAL), one transaction per
// primitive, live event fan-out to this process's subscribers. One hub process writes the file
// (HAPI_WORKERS>1 needs Redis); a second process opening it stays correct (BEGIN IMMEDIATE,
// busy_timeout) but would not see this one's live events.
import { EventFanout } from '../memory/event-fanout.js';
import type { Engine } from '../engine.js';
import type { EngineOptions } from '../types.js';
import { SqliteConnection, type SqliteSync } from './connection.js';
import { createCoordination } from './coordination.js';
import { createDocumentStore } from './documents.js';
import { createEventLog } from './event-log.js';
import { createLimitStore } from './limits.js';
import { createMachineStore } from './machines.js';
import { createMessageStore } from './messages.js';
import { createNamespaceRegistry } from './namespaces.js';
import { createPresenceStore } from './presence.js';
import { createRpcRouteTable } from './rpc-routes.js';
import { createSessionStore } from './sessions.js';

/** Opens (creating and migrating if needed) the database file at `path`. */
export function createSqliteEngine(path: string, options: EngineOptions, sync: SqliteSync = 'full'): Engine {
  const db = new SqliteConnection(path, sync);
  const fanout = new EventFanout();
  return {
    kind: 'sqlite',
    sessions: createSessionStore(db),
    machines: createMachineStore(db),
    messages: createMessageStore(db, options, fanout),
    presence: createPresenceStore(db),
    namespaces: createNamespaceRegistry(db),
    rpcRoutes: createRpcRouteTable(db),
    events: createEventLog(db, options, fanout),
    coordination: createCoordination(db),
    documents: createDocumentStore(db),
    limits: createLimitStore(db),
    async ping() {
      db.get('SELECT 1 AS one');
    },
    async close() {
      fanout.clear();
      db.close();
    },
  };
}
