// The presence store: keep-alive deadlines and the shared live fields of sessions and machines.
import type {
  ExpiredPresence,
  LiveFields,
  PresenceKind,
  PresenceRefreshRequest,
  RefreshPresenceInput,
  RefreshPresenceResult,
} from '../types.js';

export interface PresenceStore {
  /**
   * Atomic keep-alive: set deadline, merge live fields, detect "became active", throttle; for a
   * session also counts its queued prompts in the same step (RefreshPresenceResult.queued).
   */
  refresh(ns: string, kind: PresenceKind, id: string, input: RefreshPresenceInput): Promise<RefreshPresenceResult>;
  /**
   * Many keep-alives at once (coalesced heartbeats): the results, in order, are those of calling
   * `refresh` for each request in turn; the same id may appear more than once. Engines apply a
   * batch in as few steps as they can (Redis: one script per namespace slot). Not atomic as a
   * whole: each item is atomic on its own, as with `refresh`.
   */
  refreshMany(requests: readonly PresenceRefreshRequest[]): Promise<RefreshPresenceResult[]>;
  /** Merge live fields without touching presence (e.g. thinking grace). Returns the new live state. */
  setLiveFields(ns: string, kind: PresenceKind, id: string, fields: LiveFields): Promise<LiveFields | null>;
  /** Ends presence now: removes the deadline, active=false, merges `fields`. Returns whether it was active. */
  markInactive(ns: string, kind: PresenceKind, id: string, fields: LiveFields): Promise<{ wasActive: boolean }>;
  /**
   * Removes up to `limit` entries whose deadline is <= now, sets active=false on each (plus
   * thinking=false for sessions) and returns them. Each entry is returned by exactly one call.
   */
  expireOverdue(now: number, limit: number): Promise<ExpiredPresence[]>;
}
