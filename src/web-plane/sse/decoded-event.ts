// An event from the engine's log, decoded once per process (not per connection): parsed for
// routing and for `live.waitFor`, and normalised to the one-line JSON an SSE `data:` line needs.
import type { StoredEvent } from '../../services/model.js';
import { routingFields, type RoutingFields } from './delivery-filter.js';

export interface DecodedEvent {
  offset: number;
  /** One-line JSON of the event. */
  line: string;
  parsed: unknown;
  fields: RoutingFields;
}

/**
 * Null when the stored JSON is not an event object. Engines store what the EventFeed appended,
 * so this only guards against a corrupted or foreign log entry; such an entry is skipped (it
 * still consumes its offset, which resume handles like an event filtered out).
 */
export function decodeStoredEvent(stored: StoredEvent): DecodedEvent | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored.json);
  } catch {
    return null;
  }
  const fields = routingFields(parsed);
  if (!fields) return null;
  // JSON.stringify never emits raw line breaks, but the engine stores opaque text: a pretty-
  // printed entry would break the `data:` framing, so re-serialise only in that case.
  const line = /[\r\n]/.test(stored.json) ? JSON.stringify(parsed) : stored.json;
  return { offset: stored.offset, line, parsed, fields };
}
