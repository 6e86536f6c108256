// Limits state in memory: overrides, token buckets, leases and usage counters in plain maps. Each
// primitive is one synchronous block, hence atomic in this process.
import type { BucketSpec, LimitStore, TakeResult } from '../stores/limits.js';

export interface BucketState {
  tokens: number;
  at: number;
}

/**
 * The token-bucket step every engine applies (the Redis script mirrors it): refill for the time
 * since `at`, then take. A clock that went backwards refills nothing.
 */
export function takeFromBucket(
  state: BucketState | undefined,
  spec: BucketSpec,
  want: number,
  min: number,
  now: number,
): { state: BucketState; result: TakeResult } {
  const tokens = state
    ? Math.min(spec.capacity, state.tokens + (Math.max(0, now - state.at) * spec.ratePerSec) / 1000)
    : spec.capacity;
  if (tokens >= min) {
    const granted = Math.min(tokens, want);
    return { state: { tokens: tokens - granted, at: now }, result: { granted, retryAfterMs: 0 } };
  }
  const retryAfterMs = Math.ceil(((min - tokens) * 1000) / spec.ratePerSec);
  return { state: { tokens, at: now }, result: { granted: 0, retryAfterMs } };
}

const key = (ns: string, name: string): string => `${ns}\u0000${name}`;

/** Holder → expiry, and a lower bound of those expiries (no lease expires before it). */
interface LeaseTable {
  holders: Map<string, number>;
  earliest: number;
}

export function createLimitStore(): LimitStore {
  const overrides = new Map<string, Record<string, number>>();
  const buckets = new Map<string, BucketState>();
  const leases = new Map<string, LeaseTable>();
  const usage = new Map<string, Record<string, number>>();

  /**
   * The kind's leases, expired ones removed. The scan only runs once the earliest expiry may have
   * passed: a scan on every acquire made opening n connections cost n² (50 000 sockets, one
   * lease each).
   */
  const liveLeases = (ns: string, kind: string, now: number): LeaseTable => {
    let table = leases.get(key(ns, kind));
    if (!table) {
      table = { holders: new Map(), earliest: Infinity };
      leases.set(key(ns, kind), table);
    }
    if (now < table.earliest) return table;
    let earliest = Infinity;
    for (const [holder, expiresAt] of table.holders) {
      if (expiresAt <= now) table.holders.delete(holder);
      else earliest = Math.min(earliest, expiresAt);
    }
    table.earliest = earliest;
    return table;
  };

  return {
    async overrides(ns) {
      return { ...(overrides.get(ns) ?? {}) };
    },

    async setOverrides(ns, changes) {
      const next = { ...(overrides.get(ns) ?? {}) };
      for (const [name, value] of Object.entries(changes)) {
        if (value === null) delete next[name];
        else next[name] = value;
      }
      if (Object.keys(next).length === 0) overrides.delete(ns);
      else overrides.set(ns, next);
      return { ...next };
    },

    async listOverrides() {
      return [...overrides.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([namespace, values]) => ({ namespace, overrides: { ...values } }));
    },

    async take(ns, bucket, spec, want, min, now) {
      const step = takeFromBucket(buckets.get(key(ns, bucket)), spec, want, min, now);
      buckets.set(key(ns, bucket), step.state);
      return step.result;
    },

    async acquireLease(ns, kind, holder, limit, expiresAt, now) {
      const table = liveLeases(ns, kind, now);
      const held = table.holders;
      if (!held.has(holder) && held.size >= limit) return { ok: false, held: held.size };
      held.set(holder, expiresAt);
      table.earliest = Math.min(table.earliest, expiresAt);
      return { ok: true, held: held.size };
    },

    async renewLeases(ns, kind, holders, expiresAt, now) {
      const table = leases.get(key(ns, kind));
      if (!table) return;
      // A lease that already expired stays expired, even before a scan has removed it.
      for (const holder of holders) if ((table.holders.get(holder) ?? 0) > now) table.holders.set(holder, expiresAt);
      table.earliest = Math.min(table.earliest, expiresAt);
    },

    async releaseLease(ns, kind, holder) {
      leases.get(key(ns, kind))?.holders.delete(holder);
    },

    async addUsage(ns, counter, delta, limit) {
      const counters = usage.get(ns) ?? {};
      const used = counters[counter] ?? 0;
      const next = Math.max(0, used + delta);
      if (delta > 0 && next > limit) return { ok: false, used };
      counters[counter] = next;
      usage.set(ns, counters);
      return { ok: true, used: next };
    },

    async usage(ns) {
      return { ...(usage.get(ns) ?? {}) };
    },
  };
}
