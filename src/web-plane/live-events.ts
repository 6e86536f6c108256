// What API routes need from the SSE plane's process-local view of the namespace event feed.
import type { BroadcastEvent } from '../protocol/sync-events.js';

export interface LiveEventSource {
  /**
   * Resolves with the first event of `namespace` appended after this call that matches
   * `predicate`, or null after `timeoutMs`. Register before triggering the action you wait on.
   */
  waitFor(
    namespace: string,
    predicate: (event: BroadcastEvent) => boolean,
    timeoutMs: number,
  ): Promise<BroadcastEvent | null>;
}
