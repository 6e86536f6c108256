// Single-process engine: plain maps, no dependencies. Every primitive does all of its work in
// one synchronous block (no await in between), which is what makes it atomic here; stores that
// must change together share one MemoryState.
import type { Engine } from '../engine.js';
import type { EngineOptions } from '../types.js';
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
import { MemoryState } from './state.js';

export function createMemoryEngine(options: EngineOptions): Engine {
  const state = new MemoryState(options);
  return {
    kind: 'memory',
    sessions: createSessionStore(state),
    machines: createMachineStore(state),
    messages: createMessageStore(state),
    presence: createPresenceStore(state),
    namespaces: createNamespaceRegistry(),
    rpcRoutes: createRpcRouteTable(),
    events: createEventLog(state),
    coordination: createCoordination(),
    documents: createDocumentStore(),
    limits: createLimitStore(),
    async ping() {},
    async close() {
      state.fanout.clear();
    },
  };
}
