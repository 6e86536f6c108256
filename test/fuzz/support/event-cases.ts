// Fuzz cases for every /cli event: payload arbitraries built around each event's zod schema
// (valid-ish values with one field broken, junk, documents at and beyond the depth limit), ids as
// placeholders resolved at run time (the tenant's own session/machine, a never-existing id, a
// hostile string), and the ack shape each event must answer with.
import fc from 'fast-check';
import { z } from 'zod';
import { EventAckSchema } from '../../../src/protocol/socket-events.js';
import { documentValue, hostileString, jsonValue, junkPayload, validIsh, type Fields } from './arbitraries.js';

/** Placeholders replaced by real ids when a case runs (ids change when the world is restored). */
export const SID = '\u0001SID';
export const MID = '\u0001MID';
export const FRESH = '\u0001FRESH';

const sid = fc.oneof(
  { weight: 6, arbitrary: fc.constant(SID) },
  { weight: 2, arbitrary: fc.constant(FRESH) },
  { weight: 1, arbitrary: fc.constant(MID) },
  { weight: 1, arbitrary: hostileString },
);
const mid = fc.oneof(
  { weight: 6, arbitrary: fc.constant(MID) },
  { weight: 2, arbitrary: fc.constant(FRESH) },
  { weight: 1, arbitrary: fc.constant(SID) },
  { weight: 1, arbitrary: hostileString },
);
const version = fc.oneof(fc.nat(4), fc.constant(1));
/** Times around "now" of the hub's manual clock (filled in at run time as an offset). */
const time = fc.integer({ min: -700_000, max: 5_000 }).map((offset) => ({ [NOW_OFFSET]: offset }));
export const NOW_OFFSET = '\u0001NOW';
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const shortString = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('default', 'plan', 'remote', 'local'));
const rpcName = fc.oneof(
  fc.constantFrom('abort', 'readFile', 'spawn-happy-session', 'permission'),
  fc.string({ maxLength: 10 }),
);

const EVENT_FIELDS: Record<string, Fields> = {
  message: {
    sid,
    message: fc.oneof(
      documentValue,
      fc.string({ maxLength: 40 }),
      jsonValue(3).map((v) => JSON.stringify(v)),
    ),
    localId: opt(fc.string({ minLength: 1, maxLength: 20 })),
    createdAt: opt(fc.integer()),
  },
  'update-metadata': { sid, expectedVersion: version, metadata: documentValue },
  'update-state': { sid, expectedVersion: version, agentState: documentValue },
  'session-alive': {
    sid,
    time,
    thinking: opt(fc.boolean()),
    mode: opt(fc.constantFrom('local', 'remote')),
    permissionMode: opt(shortString),
    model: opt(fc.option(shortString, { nil: null })),
    modelReasoningEffort: opt(fc.option(shortString, { nil: null })),
    effort: opt(fc.option(shortString, { nil: null })),
    serviceTier: opt(fc.option(shortString, { nil: null })),
    collaborationMode: opt(shortString),
  },
  'session-end': { sid, time, reason: opt(fc.constantFrom('completed', 'terminated', 'error', 'handoff', 'cleared')) },
  'session-ready': { sid, time },
  'messages-consumed': {
    sid,
    localIds: fc.array(fc.oneof(fc.string({ maxLength: 12 }), fc.constant('fuzz-alice-local'), jsonValue(1)), {
      maxLength: 5,
    }),
    clearQueuedThinkingGrace: opt(fc.boolean()),
    steered: opt(fc.boolean()),
  },
  'machine-alive': {
    machineId: mid,
    time,
    health: opt(fc.oneof(fc.record({ collectedAt: fc.integer(), cpuCount: opt(fc.nat(64)) }), documentValue)),
  },
  'machine-update-metadata': { machineId: mid, expectedVersion: version, metadata: documentValue },
  'machine-update-state': { machineId: mid, expectedVersion: version, runnerState: documentValue },
  'rpc-register': {
    method: fc.tuple(fc.constantFrom(SID, MID, FRESH, ''), rpcName).map(([id, name]) => `${id}:${name}`),
  },
  'rpc-unregister': {
    method: fc.tuple(fc.constantFrom(SID, MID, FRESH, ''), rpcName).map(([id, name]) => `${id}:${name}`),
  },
};

/** Events whose ack is the versioned-write shape, and the key carrying the value. */
export const VERSIONED_EVENTS: Record<string, string> = {
  'update-metadata': 'metadata',
  'update-state': 'agentState',
  'machine-update-metadata': 'metadata',
  'machine-update-state': 'runnerState',
};

/** Every event the fuzzer knows; the suite fails when the hub handles one that is not here. */
export const FUZZED_EVENTS = [...Object.keys(EVENT_FIELDS), 'ping'];

export interface EventCase {
  event: string;
  /** Undefined = no payload argument at all (only the ack). */
  payload: unknown;
  hasPayload: boolean;
}

export function eventCase(event: string): fc.Arbitrary<EventCase> {
  if (event === 'ping') return fc.constant({ event, payload: undefined, hasPayload: false });
  const fields = EVENT_FIELDS[event];
  if (!fields) throw new Error(`no fuzz fields for event ${event}`);
  return fc.oneof(
    { weight: 8, arbitrary: validIsh(fields).map((payload) => ({ event, payload, hasPayload: true })) },
    { weight: 1, arbitrary: junkPayload.map((payload) => ({ event, payload, hasPayload: true })) },
    { weight: 1, arbitrary: fc.constant({ event, payload: undefined, hasPayload: false }) },
  );
}

/** Any known event's case. */
export const anyEventCase: fc.Arbitrary<EventCase> = fc.constantFrom(...FUZZED_EVENTS).chain(eventCase);

/** Replaces the placeholders in a payload's top-level fields. */
export function resolvePayload(
  payload: unknown,
  ids: { sid: string; mid: string; fresh: string; now: number },
): unknown {
  const resolve = (value: unknown): unknown => {
    if (typeof value === 'string') return value.replace(SID, ids.sid).replace(MID, ids.mid).replace(FRESH, ids.fresh);
    if (typeof value === 'object' && value !== null && NOW_OFFSET in value)
      return ids.now + Number((value as Record<string, unknown>)[NOW_OFFSET]);
    return value;
  };
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return resolve(payload);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) out[key] = resolve(value);
  return out;
}

const errorReason = z.enum(['namespace-missing', 'access-denied', 'not-found', 'invalid-payload']);

/** What the ack of `event` must look like (no 'internal'/'unavailable' on a healthy engine). */
export function ackSchemaFor(event: string): z.ZodType {
  const key = VERSIONED_EVENTS[event];
  if (key !== undefined) {
    return z.union([
      z.strictObject({ result: z.literal('error'), reason: errorReason }),
      z.strictObject({
        result: z.enum(['success', 'version-mismatch']),
        version: z.number().int().min(0),
        [key]: z.unknown(),
      }),
    ]);
  }
  return EventAckSchema.refine(
    (ack) => ack.result === 'ok' || (ack.reason !== 'internal' && ack.reason !== 'unavailable'),
    'no internal/unavailable errors',
  );
}

export function isErrorAck(ack: unknown): boolean {
  return typeof ack === 'object' && ack !== null && (ack as { result?: unknown }).result === 'error';
}
