// The limits store: what the multi-tenant limits share across workers (docs/design.md#limits).
// Per-namespace overrides set by `hapi-hub ns set-limits`, token buckets (rate limits), leased
// counters for things held open (connections, RPCs in flight: a lease lapses when the worker
// holding it dies), and usage counters with a ceiling (sessions, machines, history bytes).
// Bucket and lease times are epoch ms supplied by the caller, like every other `now`.

export interface BucketSpec {
  /** Tokens added per second. */
  ratePerSec: number;
  /** Most tokens the bucket holds (a full bucket is the burst). */
  capacity: number;
}

export interface TakeResult {
  /** Tokens taken: 0 when fewer than `min` were available, else min(available, want). */
  granted: number;
  /** When `granted` is 0: ms until `min` tokens will be there. */
  retryAfterMs: number;
}

export interface LeaseResult {
  ok: boolean;
  /** Unexpired leases held after the call (including this one when granted). */
  held: number;
}

export interface UsageResult {
  ok: boolean;
  /** The counter after the call (unchanged when refused). */
  used: number;
}

export interface LimitStore {
  /** The namespace's overrides (limit name → value); `{}` when none. */
  overrides(ns: string): Promise<Record<string, number>>;
  /** Sets (a number) or removes (null) overrides; returns the overrides now in force. */
  setOverrides(ns: string, changes: Record<string, number | null>): Promise<Record<string, number>>;
  /** Every namespace that has overrides, sorted by name. */
  listOverrides(): Promise<{ namespace: string; overrides: Record<string, number> }[]>;

  /**
   * Atomic token-bucket take: refill by elapsed time (a new bucket starts full), then take
   * min(available, want) tokens if at least `min` are available, else nothing.
   */
  take(ns: string, bucket: string, spec: BucketSpec, want: number, min: number, now: number): Promise<TakeResult>;

  /**
   * Atomic: drops expired leases of (ns, kind), then grants `holder` a lease until `expiresAt` if
   * fewer than `limit` are held (a holder that already has one is renewed, never refused).
   */
  acquireLease(
    ns: string,
    kind: string,
    holder: string,
    limit: number,
    expiresAt: number,
    now: number,
  ): Promise<LeaseResult>;
  /** Extends the holders' existing leases (absent ones are not created). */
  renewLeases(ns: string, kind: string, holders: string[], expiresAt: number, now: number): Promise<void>;
  releaseLease(ns: string, kind: string, holder: string): Promise<void>;

  /**
   * Atomic: adds `delta` to the counter if the result stays ≤ `limit` (a negative delta always
   * applies, never below 0).
   */
  addUsage(ns: string, counter: string, delta: number, limit: number): Promise<UsageResult>;
  /** Every usage counter of the namespace. */
  usage(ns: string): Promise<Record<string, number>>;
}
