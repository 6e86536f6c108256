// Store interfaces live in stores/<name>.ts, named like their implementations memory/<name>.ts
// and redis/<name>.ts, so the three files of one kind of state are found by one name.
//
// The engine is the only layer that knows where state lives: a record of small stores, one per
// kind of state; a third engine is one more folder of the same file names.
// Each primitive that must be atomic cluster-wide is atomic in every implementation (one Lua
// script on Redis, one synchronous block in memory), including the few that span two stores
// (message append + its event, presence refresh + the queued count, session delete + its
// messages and presence). Every implementation passes test/engine/contract.ts.
//
// Conventions:
// - `ns` is the tenant namespace. Every object belongs to exactly one.
// - Times are epoch milliseconds supplied by the caller (`now`), so tests can inject a clock.
// - Values typed `unknown` are opaque JSON documents; engines store and return them verbatim.
import type { Coordination } from './stores/coordination.js';
import type { DocumentStore } from './stores/documents.js';
import type { EventLog } from './stores/event-log.js';
import type { LimitStore } from './stores/limits.js';
import type { MachineStore } from './stores/machines.js';
import type { MessageStore } from './stores/messages.js';
import type { NamespaceRegistry } from './stores/namespaces.js';
import type { PresenceStore } from './stores/presence.js';
import type { RpcRouteTable } from './stores/rpc-routes.js';
import type { SessionStore } from './stores/sessions.js';

export type {
  Coordination,
  DocumentStore,
  EventLog,
  LimitStore,
  MachineStore,
  MessageStore,
  NamespaceRegistry,
  PresenceStore,
  RpcRouteTable,
  SessionStore,
};

export interface Engine {
  readonly kind: 'memory' | 'sqlite' | 'redis';
  readonly sessions: SessionStore;
  readonly machines: MachineStore;
  readonly messages: MessageStore;
  readonly presence: PresenceStore;
  readonly namespaces: NamespaceRegistry;
  readonly rpcRoutes: RpcRouteTable;
  readonly events: EventLog;
  readonly coordination: Coordination;
  /** Client documents (scratchlists, hub settings): no expiry, deleted with their owner. */
  readonly documents: DocumentStore;
  readonly limits: LimitStore;
  /** Round-trip to the backing store (readiness). Throws when unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
