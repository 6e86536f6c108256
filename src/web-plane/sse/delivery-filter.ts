// Which connections receive a logged event (upstream `SSEManager.shouldSend`, docs/protocol.md#filters).

export interface DeliveryFilter {
  namespace: string;
  all: boolean;
  sessionId: string | undefined;
  machineId: string | undefined;
}

/** The fields of a logged event that routing looks at; the rest of the JSON is opaque here. */
export interface RoutingFields {
  type: string;
  namespace: string | undefined;
  sessionId: string | undefined;
  machineId: string | undefined;
}

/** Events that only the session's own stream (or an `all` stream) may carry, whatever else matches. */
const SESSION_ONLY_TYPES = new Set(['message-received', 'scheduled-matured']);

export function shouldSend(filter: DeliveryFilter, event: RoutingFields): boolean {
  // An event whose namespace is missing or different is delivered to nobody: tenants never mix.
  if (event.namespace === undefined || event.namespace !== filter.namespace) return false;
  if (SESSION_ONLY_TYPES.has(event.type)) {
    return filter.all || (filter.sessionId !== undefined && filter.sessionId === event.sessionId);
  }
  if (filter.all) return true;
  if (filter.sessionId !== undefined && filter.sessionId === event.sessionId) return true;
  if (filter.machineId !== undefined && filter.machineId === event.machineId) return true;
  return false;
}

/** Reads the routing fields out of a parsed event; null when it is not an object with a type. */
export function routingFields(parsed: unknown): RoutingFields | null {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const record = parsed as Record<string, unknown>;
  if (typeof record.type !== 'string') return null;
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  return {
    type: record.type,
    namespace: text(record.namespace),
    sessionId: text(record.sessionId),
    machineId: text(record.machineId),
  };
}
