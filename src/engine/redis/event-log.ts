// Per-namespace SSE event log: a list of event JSON plus a state hash (last offset, oldest
// retained offset, retained bytes, epoch) in the tenant slot. Appending is one Lua script that
// also publishes the event, so every worker's bus (event-bus.ts) sees a namespace's events in
// offset order. A batch (appendMany) is one script and one message for all its events.
import { randomUUID } from 'node:crypto';
import type { EventLog } from '../stores/event-log.js';
import type { AppendedEvent, EngineOptions } from '../types.js';
import { arrayOf, decimal, numberOf, stringsOf } from './codec.js';
import type { RedisContext } from './context.js';
import type { RedisEventBus } from './event-bus.js';
import { encodeNamespace, EVENT_CHANNEL, tenantKeys } from './keys.js';

export function createEventLog(context: RedisContext, bus: RedisEventBus): EventLog {
  const { scripts, options } = context;
  const append = async (ns: string, json: string): Promise<AppendedEvent> => {
    const reply = stringsOf(await scripts.run('eventAppend', eventLogKeys(ns), [json, ...eventLogArgs(ns, options)]));
    return { namespace: ns, epoch: reply[0] ?? '', offset: numberOf(reply[1]), json };
  };
  return {
    append,

    async appendMany(ns, jsons) {
      // One event: the single-event script (its message is the plain form every bus reads).
      if (jsons.length <= 1) return Promise.all(jsons.map((json) => append(ns, json)));
      const reply = stringsOf(
        await scripts.run('eventAppendMany', eventLogKeys(ns), [...eventLogArgs(ns, options), ...jsons]),
      );
      const epoch = reply[0] ?? '';
      const first = numberOf(reply[1]);
      return jsons.map((json, i) => ({ namespace: ns, epoch, offset: first + i, json }));
    },

    async read(ns, afterOffset) {
      const reply = arrayOf(
        await scripts.run(
          'eventRead',
          [tenantKeys.eventLogState(ns), tenantKeys.eventLogEntries(ns)],
          [decimal(afterOffset), newEpoch()],
        ),
      );
      const [epoch, nextOffset, oldestOffset, firstOffset] = stringsOf(reply.slice(0, 4));
      const first = numberOf(firstOffset);
      return {
        epoch: epoch ?? '',
        nextOffset: numberOf(nextOffset),
        oldestOffset: numberOf(oldestOffset),
        events: stringsOf(reply[4]).map((json, i) => ({ offset: first + i, json })),
      };
    },

    subscribe(listener) {
      return bus.subscribe(listener);
    },
  };
}

/** KEYS of appendToEventLog (event-log-append.lua). */
export function eventLogKeys(ns: string): string[] {
  return [tenantKeys.eventLogState(ns), tenantKeys.eventLogEntries(ns)];
}

/** ARGV of appendToEventLog after the event JSON: limits, epoch if none yet, channel, namespace. */
export function eventLogArgs(ns: string, options: EngineOptions): string[] {
  return [
    String(Math.max(1, Math.floor(options.eventLogMaxEvents))),
    String(Math.max(0, Math.floor(options.eventLogMaxBytes))),
    newEpoch(),
    EVENT_CHANNEL,
    encodeNamespace(ns),
  ];
}

/** Only used when the namespace has no epoch yet (first use, or the log was lost). */
function newEpoch(): string {
  return randomUUID().replaceAll('-', '').slice(0, 16);
}
