// Every Redis key the engine uses, in one place.
//
// Tenant keys are `hapi:{<ns>}:...`: the `{<ns>}` hash tag puts all of a namespace's keys in one
// Cluster slot, so a Lua script may touch a session, its messages and the namespace's event log
// together. The namespace is URI-encoded inside the tag: names with `{`, `}` or `:` can then
// neither move the tag nor make two namespaces' keys collide.
//
// Global keys (a small fixed set) hold what must be found without knowing the namespace: presence
// deadlines, the namespace registry, secrets and locks. Sessions, machines and RPC routes are
// per namespace (the same id may exist in two namespaces as two unrelated objects). They never start with `hapi:{`, so they cannot collide
// with tenant keys.

export function encodeNamespace(ns: string): string {
  return encodeURIComponent(ns);
}

export function decodeNamespace(encoded: string): string {
  return decodeURIComponent(encoded);
}

function tenant(ns: string): string {
  return `hapi:{${encodeNamespace(ns)}}`;
}

export const tenantKeys = {
  /** HASH session id → hash of the row: columns, `live:<field>`, presence `deadline`. */
  session: (ns: string, id: string) => `${tenant(ns)}:session:${id}`,
  /** Prefix of `session` keys, for scripts that find a session through the tag index. */
  sessionPrefix: (ns: string) => `${tenant(ns)}:session:`,
  /** HASH tag → session id (tags are unique per namespace). */
  sessionTags: (ns: string) => `${tenant(ns)}:session-tags`,
  /** ZSET session ids scored by creation order. */
  sessionList: (ns: string) => `${tenant(ns)}:sessions`,
  machine: (ns: string, id: string) => `${tenant(ns)}:machine:${id}`,
  /** ZSET machine ids scored by creation order. */
  machineList: (ns: string) => `${tenant(ns)}:machines`,
  /** HASH of creation-order counters for the lists above. */
  counters: (ns: string) => `${tenant(ns)}:counters`,

  /** HASH: message rows (`r:<seq>:<column>`), `id:<id>`/`lid:<localId>` → seq, `last`, `epoch`. */
  messages: (ns: string, sessionId: string) => `${tenant(ns)}:messages:${sessionId}`,
  /** ZSET seq scored by seq: listing after a seq and trimming the oldest. */
  messageSeqs: (ns: string, sessionId: string) => `${tenant(ns)}:message-seqs:${sessionId}`,
  /** ZSET, all scores 0, members `<sortable at>:<padded seq>`: position order via lex ranges. */
  messagePositions: (ns: string, sessionId: string) => `${tenant(ns)}:message-positions:${sessionId}`,
  /** ZSET seq scored by seq of queued rows (localId set, not invoked yet). */
  messageQueue: (ns: string, sessionId: string) => `${tenant(ns)}:message-queue:${sessionId}`,

  /** HASH: one owner's documents (owner = session id, '' = the namespace), name → JSON text. */
  documents: (ns: string, owner: string) => `${tenant(ns)}:documents:${owner}`,

  /** STRING: socket id that answers this RPC method in this namespace (last registration wins). */
  rpcRoute: (ns: string, method: string) => `${tenant(ns)}:rpc-route:${method}`,

  /** HASH: `last` offset, `oldest` retained offset, `bytes` retained, `epoch`. */
  eventLogState: (ns: string) => `${tenant(ns)}:event-log`,
  /** LIST of event JSON, oldest first; element i has offset `oldest + i`. */
  eventLogEntries: (ns: string) => `${tenant(ns)}:events`,

  /** HASH limit name → the namespace's override (`hapi-hub ns set-limits`). */
  limitOverrides: (ns: string) => `${tenant(ns)}:limit-overrides`,
  /** HASH `tokens`, `at`: one token bucket; expires once it would be full again. */
  limitBucket: (ns: string, bucket: string) => `${tenant(ns)}:limit-bucket:${bucket}`,
  /** ZSET holder → lease expiry (connections, RPCs in flight). */
  limitLeases: (ns: string, kind: string) => `${tenant(ns)}:limit-leases:${kind}`,
  /** HASH counter → usage (sessions, machines, history bytes). */
  limitUsage: (ns: string) => `${tenant(ns)}:limit-usage`,
};

/** `{@registry}`: one slot for the whole registry; `@` never appears in an encoded namespace. */
const REGISTRY = 'hapi:{@registry}';

export const globalKeys = {
  /** ZSET `<kind>|<encoded ns>|<id>` scored by presence deadline; sharded to spread heartbeats. */
  presenceDeadlines: (shard: number) => `hapi:presence-deadlines:${shard}`,
  namespaceRecord: (ns: string) => `${REGISTRY}:namespace:${encodeNamespace(ns)}`,
  namespaceRecordPrefix: () => `${REGISTRY}:namespace:`,
  /** SET of encoded namespace names. */
  namespaceNames: () => `${REGISTRY}:namespaces`,
  secret: (name: string) => `hapi:secret:${name}`,
  lock: (name: string) => `hapi:lock:${name}`,
  ephemeral: (key: string) => `hapi:ephemeral:${key}`,
  /** SET of encoded names of namespaces that have limit overrides (for `ns limits`). */
  limitOverrideNamespaces: () => 'hapi:limit-override-namespaces',
};

/** Pub/sub channel carrying every namespace's appended events to every worker. */
export const EVENT_CHANNEL = 'hapi:events';

export const PRESENCE_SHARDS = 8;
