// Per-namespace SSE event logs in memory and their fan-out to this process (see state.ts).
import type { EventLog } from '../stores/event-log.js';
import type { AppendedEvent } from '../types.js';
import type { MemoryState } from './state.js';

export function createEventLog(state: MemoryState): EventLog {
  return {
    async append(ns, json) {
      return appendEventNow(state, ns, json);
    },

    async appendMany(ns, jsons) {
      return jsons.map((json) => appendEventNow(state, ns, json));
    },

    async read(ns, afterOffset) {
      // Creating the log on read fixes the epoch now, so a cursor taken from an empty log stays valid.
      return state.eventLogFor(ns).read(afterOffset);
    },

    async subscribe(listener) {
      const unsubscribe = state.fanout.subscribe(listener);
      return async () => unsubscribe();
    },
  };
}

/** Synchronous, so the message store can append a row's event in the row's own block. */
export function appendEventNow(state: MemoryState, ns: string, json: string): AppendedEvent {
  const log = state.eventLogFor(ns);
  const stored = log.append(json);
  const event: AppendedEvent = { namespace: ns, epoch: log.epoch, offset: stored.offset, json };
  state.fanout.publish(event);
  return { ...event };
}
