// Keep-alives that would change nothing. A CLI sends session-alive every 2 s and nearly every
// beat repeats the one before it (same thinking state, same mode and model). This worker
// remembers, per session whose beats it sent to the engine, what it sent and when; a beat that
// repeats it is answered here, without an engine round trip, while all of these hold:
// - the compared fields (everything but thinkingAt) are the ones last sent;
// - no session-updated is due yet (the broadcast throttle has not elapsed since the last one), so
//   the web sees exactly the broadcasts it would have seen;
// - the last sent beat found no queued prompts;
// - no event about the session has arrived since (an end, a delete, a prompt, a hub-side write of
//   a runtime field: anything that could make the next beat do something).
// The next beat that is sent (at the latest when the throttle elapses) carries the newest
// activeAt and deadline, so the stored row lags by at most the throttle, well inside the TTL.
import type { AppendedEvent, LiveFields, RefreshPresenceResult } from '../engine/types.js';

interface SentBeat {
  /** The compared fields, as sent (stable key order: handleAlive builds them in a fixed order). */
  fieldsKey: string;
  fields: LiveFields;
  sentAt: number;
  /** When the engine last stamped a session-updated for this session (null: not known). */
  broadcastAt: number | null;
}

/** `"sessionId":"…"` anywhere in an event's JSON (escaped text inside strings cannot match). */
const SESSION_ID_PATTERN = /"sessionId":"((?:[^"\\]|\\.)*)"/g;

/** A beat on its way to the engine: an event about its session meanwhile makes its result stale. */
export interface BeatInFlight {
  readonly namespace: string;
  readonly sid: string;
  stale: boolean;
}

/** A sent beat, as settle() receives it: what was compared, when, and the engine's answer. */
export interface SentBeatRecord {
  fieldsKey: string;
  fields: LiveFields;
  at: number;
  result: RefreshPresenceResult;
}

/** The inner map of `outer` under `key`, created when missing. */
function innerMap<V>(outer: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let inner = outer.get(key);
  if (!inner) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}

export class AliveMemo {
  /** namespace → session id → what was last sent. */
  private readonly sent = new Map<string, Map<string, SentBeat>>();
  /** namespace → session id → beats sent and not yet answered (usually none or one). */
  private readonly inFlight = new Map<string, Map<string, Set<BeatInFlight>>>();

  constructor(
    /** The session-updated throttle: a beat is never skipped once a broadcast is due. */
    private readonly throttleMs: number,
    /** Longest a beat may go unsent: keeps the stored deadline far from expiring. */
    private readonly maxSkipMs: number,
    /** Runtime fields a session-updated carries under the name the beat sends them with. */
    private readonly runtimeKeys: readonly string[],
  ) {}

  /** Key of the compared fields: equal keys, equal fields. */
  static fieldsKey(fields: LiveFields): string {
    return JSON.stringify(fields);
  }

  /** True when this beat may be answered without the engine (see the file comment). */
  canSkip(namespace: string, sid: string, fieldsKey: string, now: number): boolean {
    const last = this.sent.get(namespace)?.get(sid);
    if (!last || last.fieldsKey !== fieldsKey || last.broadcastAt === null) return false;
    if (now - last.sentAt >= this.maxSkipMs) return false;
    return now - last.broadcastAt < this.throttleMs;
  }

  /** Call before sending a beat; hand the result to settle() whatever the outcome. */
  beginSend(namespace: string, sid: string): BeatInFlight {
    const beat: BeatInFlight = { namespace, sid, stale: false };
    const sessions = innerMap(this.inFlight, namespace);
    let beats = sessions.get(sid);
    if (!beats) {
      beats = new Set();
      sessions.set(sid, beats);
    }
    beats.add(beat);
    // Whatever was remembered is replaced by this beat's outcome (or dropped if it fails).
    this.forget(namespace, sid);
    return beat;
  }

  /**
   * The engine answered `beat` (null: the call failed): remember it when the session was found,
   * nothing is queued and no event about the session arrived while it was on its way (its outcome
   * may predate that event).
   */
  settle(beat: BeatInFlight, sent: SentBeatRecord | null): void {
    const sessions = this.inFlight.get(beat.namespace);
    const beats = sessions?.get(beat.sid);
    beats?.delete(beat);
    if (beats?.size === 0) sessions?.delete(beat.sid);
    if (sessions?.size === 0) this.inFlight.delete(beat.namespace);
    if (sent === null || beat.stale || !sent.result.found || sent.result.queued > 0) return;
    const { fieldsKey, fields, at, result } = sent;
    const stamped = result.live.lastBroadcastAt;
    const broadcastAt = result.broadcastDue ? at : typeof stamped === 'number' ? stamped : null;
    innerMap(this.sent, beat.namespace).set(beat.sid, { fieldsKey, fields, sentAt: at, broadcastAt });
  }

  forget(namespace: string, sid: string): void {
    const sessions = this.sent.get(namespace);
    if (!sessions?.delete(sid)) return;
    if (sessions.size === 0) this.sent.delete(namespace);
  }

  /**
   * An event from the namespace feed (any worker). Drops what it remembers about every session
   * the event names, except for a session-updated that shows the session as this worker's last
   * beat left it (its own keep-alive broadcast, a metadata change): those leave the beat valid.
   */
  observe(appended: AppendedEvent): void {
    const sessions = this.sent.get(appended.namespace);
    const pending = this.inFlight.get(appended.namespace);
    if (!sessions && !pending) return;
    for (const match of appended.json.matchAll(SESSION_ID_PATTERN)) {
      const sid = match[1];
      if (sid === undefined) continue;
      const last = sessions?.get(sid);
      if (last && !this.showsSentState(appended.json, last)) this.forget(appended.namespace, sid);
      // A keep-alive broadcast of a beat in flight arrives after it was sent; anything about
      // the session makes that beat's outcome unfit to be remembered.
      for (const beat of pending?.get(sid) ?? []) beat.stale = true;
    }
  }

  /** A session-updated that shows the session active with the runtime fields last sent. */
  private showsSentState(json: string, last: SentBeat): boolean {
    if (!json.startsWith('{"type":"session-updated"')) return false;
    let event: unknown;
    try {
      event = JSON.parse(json);
    } catch {
      return false;
    }
    const data = (event as { data?: unknown }).data;
    if (typeof data !== 'object' || data === null) return false;
    const fields = data as Record<string, unknown>;
    if (fields.active !== true) return false;
    return this.runtimeKeys.every((key) => !(key in fields) || fields[key] === (last.fields[key] ?? null));
  }

  /** Drops entries no beat can use any more (called now and then; bounds the map). */
  prune(now: number): void {
    for (const [namespace, sessions] of this.sent) {
      for (const [sid, last] of sessions) if (now - last.sentAt >= this.maxSkipMs) sessions.delete(sid);
      if (sessions.size === 0) this.sent.delete(namespace);
    }
  }

  /** How many sessions are remembered (tests, metrics). */
  get size(): number {
    let count = 0;
    for (const sessions of this.sent.values()) count += sessions.size;
    return count;
  }
}
