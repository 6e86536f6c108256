// SSE event ids: `<epoch>:<offset>:<tag>`. The epoch and offset come from the namespace's event
// log in the engine (shared by every worker), so an id issued by one worker is a valid cursor on
// any other. The tag binds the id to its namespace without revealing it: a cursor carried over
// from another namespace (same browser, other account) is recognised and answered with `gap`.
import { createHash } from 'node:crypto';

export interface ParsedEventId {
  epoch: string;
  /** NaN when the offset part is not a decimal number; the resume check rejects it. */
  offset: number;
  tag: string;
}

// Tags are recomputed for every live event and every connection; the hash is cheap but not free.
// Bounded so a long-lived worker that sees many namespaces (or epochs) cannot grow it forever.
const TAG_CACHE_LIMIT = 10_000;
const tagCache = new Map<string, string>();

/** First 8 hex chars of sha256(`${epoch}|${namespace}`), as upstream's nsTag. */
export function namespaceTag(epoch: string, namespace: string): string {
  const key = `${epoch}|${namespace}`;
  const cached = tagCache.get(key);
  if (cached !== undefined) return cached;
  const tag = createHash('sha256').update(key).digest('hex').slice(0, 8);
  if (tagCache.size >= TAG_CACHE_LIMIT) tagCache.clear();
  tagCache.set(key, tag);
  return tag;
}

export function formatEventId(epoch: string, offset: number, tag: string): string {
  return `${epoch}:${offset}:${tag}`;
}

/** Null unless the id has exactly three `:`-separated parts. */
export function parseEventId(id: string): ParsedEventId | null {
  const parts = id.split(':');
  if (parts.length !== 3) return null;
  const [epoch, offsetText, tag] = parts as [string, string, string];
  // Only plain decimal digits: Number() would also accept '', ' 7', '0x10' and '1e3'.
  const offset = /^[0-9]+$/.test(offsetText) ? Number(offsetText) : Number.NaN;
  return { epoch, offset, tag };
}
