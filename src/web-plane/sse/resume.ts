// The resume verdict for a new SSE connection (upstream `resolveResume`, with the event log in
// the engine instead of a per-process ring).
import type { EventReadResult } from '../../services/model.js';
import { namespaceTag, parseEventId } from './event-ids.js';

export type ResumeVerdict = 'ok' | 'gap';

export interface ResumePlan {
  verdict: ResumeVerdict;
  /** With `ok`: the cursor's offset; events after it are replayed. */
  cursorOffset: number;
}

/**
 * Which offset to read the log after. When the cursor cannot possibly be resumed we still read
 * (to learn the log's epoch and head) but ask for nothing, so the engine returns no events.
 */
export function readOffsetFor(cursor: string | undefined): number {
  const parsed = cursor === undefined ? null : parseEventId(cursor);
  if (!parsed || !Number.isSafeInteger(parsed.offset) || parsed.offset < 1) return Number.MAX_SAFE_INTEGER;
  return parsed.offset;
}

/**
 * `gap` when there is no cursor, it is malformed, it comes from another incarnation of the log
 * (epoch) or another namespace (tag), it points outside what was ever issued, or events after it
 * were evicted. Otherwise `ok`: every retained event after the cursor is still available.
 */
export function resolveResume(
  cursor: string | undefined,
  namespace: string,
  log: Pick<EventReadResult, 'epoch' | 'nextOffset' | 'oldestOffset'>,
): ResumePlan {
  const gap: ResumePlan = { verdict: 'gap', cursorOffset: 0 };
  if (cursor === undefined) return gap;
  const parsed = parseEventId(cursor);
  if (!parsed) return gap;
  if (parsed.epoch !== log.epoch) return gap;
  if (parsed.tag !== namespaceTag(log.epoch, namespace)) return gap;
  const offset = parsed.offset;
  if (!Number.isSafeInteger(offset) || offset < 1 || offset >= log.nextOffset) return gap;
  // The client has everything up to `offset`; it needs offset+1 onwards, which must be retained.
  if (offset < log.oldestOffset - 1) return gap;
  return { verdict: 'ok', cursorOffset: offset };
}
