// Multi-tenant limits (config/limits.ts, docs/design.md#limits): every check a transport or
// another service asks for, answered with a verdict. Per-socket buckets live in this process;
// per-namespace state is shared through the engine (engine.limits), with the namespace's token
// buckets leased in batches so most messages cost no engine round trip. Bucket and lease times
// run on the wall clock (`now`), not the services' clock: tests freeze that one.
import { randomUUID } from 'node:crypto';
import {
  BURST_SECONDS,
  LIMIT_NAMES,
  type LimitName,
  type LimitOverrides,
  type LimitSettings,
  type LimitValues,
} from '../config/limits.js';
import type { Engine } from '../engine/engine.js';
import type { BucketSpec } from '../engine/stores/limits.js';
import { LimitExceededError } from './errors.js';
import { LocalBucket } from './limit-buckets.js';

export type LimitReason = 'rate-limited' | 'quota-exceeded';

export interface LimitRefusal {
  ok: false;
  reason: LimitReason;
  limit: LimitName;
  retryAfterMs?: number;
}
export type LimitVerdict = { ok: true } | LimitRefusal;

/** One RPC slot held (LimitsService.acquireRpcSlot) until `release` (or its lease lapses). */
export interface RpcSlot {
  ok: true;
  release(): Promise<void>;
}

const ADMITTED: LimitVerdict = { ok: true };

/** Overrides are re-read this often, so `ns set-limits` reaches every worker within it. */
export const OVERRIDES_TTL_MS = 5_000;
/** Connection leases lapse this long after their worker stopped renewing them (it died). */
const CONNECTION_LEASE_MS = 60_000;
const CONNECTION_RENEW_MS = 20_000;
/** Retry-After for quotas (counts, stored bytes): nothing refills them by itself. */
const QUOTA_RETRY_MS = 60_000;
/** A worker leases this fraction of a namespace bucket's rate per engine round trip. */
const LEASE_FRACTION_OF_RATE = 1 / 20;

export function bucketSpec(ratePerSec: number): BucketSpec {
  return { ratePerSec, capacity: ratePerSec * BURST_SECONDS };
}

/** The four bucket specs of one set of values, built once (the hot path allocates nothing). */
interface Specs {
  socketEvents: BucketSpec;
  socketBytes: BucketSpec;
  namespaceEvents: BucketSpec;
  namespaceBytes: BucketSpec;
}
const specCache = new WeakMap<LimitValues, Specs>();
function specsOf(values: LimitValues): Specs {
  let specs = specCache.get(values);
  if (!specs) {
    specs = {
      socketEvents: bucketSpec(values.socketEventsPerSec),
      socketBytes: bucketSpec(values.socketBytesPerSec),
      namespaceEvents: bucketSpec(values.namespaceEventsPerSec),
      namespaceBytes: bucketSpec(values.namespaceBytesPerSec),
    };
    specCache.set(values, specs);
  }
  return specs;
}

/**
 * How long a given-back RPC slot may wait to be sent with the next slot taken on this worker
 * (releaseRpcSlot). The slot stays counted as busy meanwhile; its lease outlasts this anyway.
 */
export const RPC_RELEASE_DELAY_MS = 20;

/** History bytes are reserved from the engine in steps of this much per worker (fewer round trips). */
const HISTORY_STEP_BYTES = 256 * 1024;

interface SocketAllowance {
  namespace: string;
  /** The values the buckets were last specced from. */
  values: LimitValues;
  events: LocalBucket;
  bytes: LocalBucket;
}

/** This worker's share of a namespace's shared state: leased tokens and reserved history bytes. */
interface NamespaceShare {
  events: LeasedTokens;
  bytes: LeasedTokens;
  /** History bytes reserved in the engine and not used yet. */
  history: number;
}

/** This worker's lease of one namespace bucket: tokens already taken from the engine. */
interface LeasedTokens {
  tokens: number;
  refill: Promise<void> | null;
  /** The shared bucket said "empty" until then: refuse locally, without asking again. */
  emptyUntil: number;
}

export interface LimitListener {
  refused(namespace: string, refusal: LimitRefusal): void;
  /** Messages dropped to make room under `historyBytes` (policy drop-archived). */
  evicted(namespace: string, messages: number, bytes: number): void;
}

const SILENT: LimitListener = { refused: () => undefined, evicted: () => undefined };

export class LimitsService {
  private readonly cache = new Map<string, { values: LimitValues; at: number; loading: Promise<LimitValues> | null }>();
  private readonly sockets = new Map<string, SocketAllowance>();
  private readonly shares = new Map<string, NamespaceShare>();
  /** Connection leases this worker holds: namespace → socket ids. */
  private readonly connections = new Map<string, Set<string>>();
  private renewTimer: NodeJS.Timeout | null = null;
  /** RPC slots given back and not sent to the engine yet (releaseRpcSlot). */
  private pendingReleases: { namespace: string; holder: string; resolve(): void; reject(error: unknown): void }[] = [];
  private releaseTimer: NodeJS.Timeout | null = null;
  /** False once stopping: slots then go back at once. */
  private deferReleases = true;

  constructor(
    private readonly engine: Engine,
    private readonly settings: LimitSettings,
    private readonly listener: LimitListener = SILENT,
    private readonly now: () => number = Date.now,
  ) {}

  get historyPolicy(): LimitSettings['historyPolicy'] {
    return this.settings.historyPolicy;
  }

  // --- effective values ---------------------------------------------------------------------

  /** Defaults with the namespace's overrides applied (cached for OVERRIDES_TTL_MS). */
  async limitsFor(namespace: string): Promise<LimitValues> {
    const cached = this.cache.get(namespace);
    if (cached && this.now() - cached.at < OVERRIDES_TTL_MS) return cached.values;
    return this.load(namespace);
  }

  /** The cached values at once (stale ones trigger a reload), defaults before the first load. */
  private limitsNow(namespace: string): LimitValues {
    const cached = this.cache.get(namespace);
    if (!cached || this.now() - cached.at >= OVERRIDES_TTL_MS) void this.load(namespace).catch(() => undefined);
    return cached?.values ?? this.settings.defaults;
  }

  private load(namespace: string): Promise<LimitValues> {
    const cached = this.cache.get(namespace);
    if (cached?.loading) return cached.loading;
    const loading = this.engine.limits.overrides(namespace).then(
      (overrides) => {
        const values = this.merge(overrides);
        this.cache.set(namespace, { values, at: this.now(), loading: null });
        return values;
      },
      (error: unknown) => {
        const entry = this.cache.get(namespace);
        if (entry) entry.loading = null;
        else this.cache.delete(namespace);
        throw error;
      },
    );
    this.cache.set(namespace, { values: cached?.values ?? this.settings.defaults, at: cached?.at ?? 0, loading });
    return loading;
  }

  private merge(overrides: Record<string, number>): LimitValues {
    const values = { ...this.settings.defaults };
    for (const name of LIMIT_NAMES) {
      const value = overrides[name];
      if (typeof value === 'number' && Number.isFinite(value) && value > 0) values[name] = value;
    }
    return values;
  }

  /** Records a refusal (metric per namespace and reason) and returns it. */
  refuse(namespace: string, reason: LimitReason, limit: LimitName, retryAfterMs?: number): LimitRefusal {
    const refusal: LimitRefusal =
      retryAfterMs === undefined ? { ok: false, reason, limit } : { ok: false, reason, limit, retryAfterMs };
    this.listener.refused(namespace, refusal);
    return refusal;
  }

  /** Throws the refusal as LimitExceededError (HTTP routes answer it with 429). */
  static orThrow(verdict: LimitVerdict): void {
    if (!verdict.ok) throw new LimitExceededError(verdict.reason, verdict.limit, verdict.retryAfterMs);
  }

  // --- connections ----------------------------------------------------------------------------

  /** A /cli socket of `namespace` wants in: a lease on one of its connection slots. */
  async openConnection(namespace: string, socketId: string): Promise<LimitVerdict> {
    const limits = await this.limitsFor(namespace);
    const now = this.now();
    const lease = await this.engine.limits.acquireLease(
      namespace,
      'connections',
      socketId,
      limits.connections,
      now + CONNECTION_LEASE_MS,
      now,
    );
    if (!lease.ok) return this.refuse(namespace, 'quota-exceeded', 'connections', QUOTA_RETRY_MS);
    let held = this.connections.get(namespace);
    if (!held) {
      held = new Set();
      this.connections.set(namespace, held);
    }
    held.add(socketId);
    const specs = specsOf(limits);
    this.sockets.set(socketId, {
      namespace,
      values: limits,
      events: new LocalBucket(specs.socketEvents, now),
      bytes: new LocalBucket(specs.socketBytes, now),
    });
    return ADMITTED;
  }

  async closeConnection(namespace: string, socketId: string): Promise<void> {
    this.sockets.delete(socketId);
    const held = this.connections.get(namespace);
    if (!held?.delete(socketId)) return;
    if (held.size === 0) this.connections.delete(namespace);
    await this.engine.limits.releaseLease(namespace, 'connections', socketId);
  }

  /** Renews this worker's connection leases periodically; they lapse if the worker dies. */
  start(): void {
    if (this.renewTimer) return;
    this.renewTimer = setInterval(() => void this.renewConnections().catch(() => undefined), CONNECTION_RENEW_MS);
    this.renewTimer.unref();
  }

  stop(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    this.deferReleases = false;
    this.sendReleases();
  }

  async renewConnections(): Promise<void> {
    const now = this.now();
    await Promise.all(
      [...this.connections].map(([namespace, held]) =>
        this.engine.limits.renewLeases(namespace, 'connections', [...held], now + CONNECTION_LEASE_MS, now),
      ),
    );
  }

  // --- event and message rates ----------------------------------------------------------------

  /**
   * Size of a message's content as stored (about its JSON text length: strings, keys and a few
   * bytes per value, without serialising).
   */
  messageBytes(content: unknown): number {
    if (typeof content === 'string') return content.length;
    if (typeof content !== 'object' || content === null) return 8;
    // Not memoised per object: a WeakMap entry per stored message would cost the GC more.
    return approximateJsonBytes(content, 0);
  }

  /** Pending events one socket may have before it is told and disconnected. */
  pendingEventsLimit(namespace: string): number {
    return this.limitsNow(namespace).pendingEvents;
  }

  /**
   * One /cli event (`measure` gives its message bytes, asked only once the event rate allows it):
   * the socket's own buckets (synchronous), then the namespace's shared buckets (synchronous
   * while this worker's lease lasts). A refused event spends nothing.
   */
  admitSocketEvent(socketId: string, namespace: string, measure: () => number): LimitVerdict | Promise<LimitVerdict> {
    const limits = this.limitsNow(namespace);
    const allowance = this.sockets.get(socketId);
    if (!allowance) return this.admitNamespace(namespace, measure(), limits);
    const now = this.now();
    if (allowance.values !== limits) {
      const specs = specsOf(limits);
      allowance.events.respec(specs.socketEvents);
      allowance.bytes.respec(specs.socketBytes);
      allowance.values = limits;
    }
    const eventWait = allowance.events.shortfallMs(1, now);
    if (eventWait > 0) return this.refuse(namespace, 'rate-limited', 'socketEventsPerSec', eventWait);
    const bytes = measure();
    const byteWait = bytes > 0 ? allowance.bytes.shortfallMs(bytes, now) : 0;
    if (byteWait > 0) return this.refuse(namespace, 'rate-limited', 'socketBytesPerSec', byteWait);
    // Spent now, so events arriving while the namespace check is in flight see them gone;
    // given back if the namespace refuses.
    allowance.events.spend(1);
    allowance.bytes.spend(bytes);
    const shared = this.admitNamespace(namespace, bytes, limits);
    if (shared === ADMITTED) return ADMITTED;
    return Promise.resolve(shared).then((verdict) => {
      if (!verdict.ok) {
        allowance.events.spend(-1);
        allowance.bytes.spend(-bytes);
      }
      return verdict;
    });
  }

  /** A web prompt: the namespace's shared buckets only. */
  async admitWebMessage(namespace: string, bytes: number): Promise<LimitVerdict> {
    return this.admitNamespace(namespace, bytes, await this.limitsFor(namespace));
  }

  private admitNamespace(namespace: string, bytes: number, limits: LimitValues): LimitVerdict | Promise<LimitVerdict> {
    const share = this.shareOf(namespace);
    const events = share.events;
    const size = share.bytes;
    const { namespaceEvents: eventSpec, namespaceBytes: byteSpec } = specsOf(limits);
    const byteCost = Math.min(bytes, byteSpec.capacity);
    if (events.tokens >= 1 && size.tokens >= byteCost) {
      events.tokens -= 1;
      size.tokens -= byteCost;
      return ADMITTED;
    }
    // While the shared bucket is known to be empty, refuse here: no engine round trip per event.
    const now = this.now();
    if (events.tokens < 1 && events.emptyUntil > now)
      return this.refuse(namespace, 'rate-limited', 'namespaceEventsPerSec', events.emptyUntil - now);
    if (size.tokens < byteCost && size.emptyUntil > now)
      return this.refuse(namespace, 'rate-limited', 'namespaceBytesPerSec', size.emptyUntil - now);
    return this.admitNamespaceSlow(namespace, byteCost, eventSpec, byteSpec);
  }

  private async admitNamespaceSlow(
    namespace: string,
    byteCost: number,
    eventSpec: BucketSpec,
    byteSpec: BucketSpec,
  ): Promise<LimitVerdict> {
    const { events, bytes: size } = this.shareOf(namespace);
    const eventWait = await this.refillLease(namespace, 'events', events, 1, eventSpec);
    if (eventWait > 0) return this.refuse(namespace, 'rate-limited', 'namespaceEventsPerSec', eventWait);
    const byteWait = await this.refillLease(namespace, 'bytes', size, byteCost, byteSpec);
    if (byteWait > 0) return this.refuse(namespace, 'rate-limited', 'namespaceBytesPerSec', byteWait);
    // Another event of this worker may have spent the refill meanwhile: check again.
    if (events.tokens >= 1 && size.tokens >= byteCost) {
      events.tokens -= 1;
      size.tokens -= byteCost;
      return ADMITTED;
    }
    return this.admitNamespaceSlow(namespace, byteCost, eventSpec, byteSpec);
  }

  private shareOf(namespace: string): NamespaceShare {
    let share = this.shares.get(namespace);
    if (!share) {
      share = {
        events: { tokens: 0, refill: null, emptyUntil: 0 },
        bytes: { tokens: 0, refill: null, emptyUntil: 0 },
        history: 0,
      };
      this.shares.set(namespace, share);
    }
    return share;
  }

  /** Tops the lease up to at least `need` tokens (one engine take per batch); 0 or ms to wait. */
  private async refillLease(
    namespace: string,
    bucket: 'events' | 'bytes',
    lease: LeasedTokens,
    need: number,
    spec: BucketSpec,
  ): Promise<number> {
    while (lease.tokens < need) {
      if (lease.refill) {
        await lease.refill;
        continue;
      }
      const missing = need - lease.tokens;
      const batch = Math.min(spec.capacity, Math.max(missing, spec.ratePerSec * LEASE_FRACTION_OF_RATE));
      let wait = 0;
      lease.refill = this.engine.limits
        .take(namespace, bucket, spec, batch, missing, this.now())
        .then((taken) => {
          lease.tokens += taken.granted;
          wait = taken.granted === 0 ? Math.max(1, taken.retryAfterMs) : 0;
          if (wait > 0) lease.emptyUntil = this.now() + wait;
        })
        .finally(() => {
          lease.refill = null;
        });
      await lease.refill;
      if (wait > 0) return wait;
    }
    return 0;
  }

  // --- concurrent RPCs ------------------------------------------------------------------------

  /**
   * Takes one of the namespace's RPC slots for `leaseMs` (it lapses by itself after that), or the
   * refusal when all are taken. The engine call is issued in the caller's event-loop turn, so the
   * caller's other reads of that turn share its round trip. A granted slot must be released.
   */
  async acquireRpcSlot(namespace: string, leaseMs: number): Promise<RpcSlot | LimitRefusal> {
    const limits = await this.limitsFor(namespace);
    const holder = randomUUID();
    const now = this.now();
    // Slots given back meanwhile go first, in this same turn (on Redis: the same write).
    this.sendReleases();
    const lease = await this.engine.limits.acquireLease(
      namespace,
      'rpcs',
      holder,
      limits.concurrentRpcs,
      now + leaseMs,
      now,
    );
    if (!lease.ok) return this.refuse(namespace, 'quota-exceeded', 'concurrentRpcs', 1_000);
    return { ok: true, release: () => this.releaseRpcSlot(namespace, holder) };
  }

  /**
   * Gives a slot back with the next slot this worker takes, or after RPC_RELEASE_DELAY_MS when
   * none is taken before: sent alone right after its call's answer, each release would cost an
   * engine write of its own. Settles once the engine has the slot back.
   */
  private releaseRpcSlot(namespace: string, holder: string): Promise<void> {
    if (!this.deferReleases) return this.engine.limits.releaseLease(namespace, 'rpcs', holder);
    return new Promise((resolve, reject) => {
      this.pendingReleases.push({ namespace, holder, resolve, reject });
      if (!this.releaseTimer) {
        this.releaseTimer = setTimeout(() => this.sendReleases(), RPC_RELEASE_DELAY_MS);
        this.releaseTimer.unref();
      }
    });
  }

  /** Sends every pending slot release now (all in this turn). */
  private sendReleases(): void {
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    const releases = this.pendingReleases;
    if (releases.length === 0) return;
    this.pendingReleases = [];
    for (const { namespace, holder, resolve, reject } of releases) {
      this.engine.limits.releaseLease(namespace, 'rpcs', holder).then(resolve, reject);
    }
  }

  // --- stored quotas --------------------------------------------------------------------------

  /**
   * Reserves room for `amount` more of a stored quantity (sessions, machines, history bytes).
   * History bytes are reserved from the engine in steps (HISTORY_STEP_BYTES, at most 1/16 of the
   * quota) and spent locally, so a message rarely costs an engine round trip; a worker's unspent
   * step counts as used until it is spent or given back (flush, on close).
   */
  async reserve(
    namespace: string,
    limit: 'sessions' | 'machines' | 'historyBytes',
    amount: number,
  ): Promise<LimitVerdict> {
    if (limit === 'historyBytes') {
      const share = this.shareOf(namespace);
      if (share.history >= amount) {
        share.history -= amount;
        return ADMITTED;
      }
    }
    const limits = await this.limitsFor(namespace);
    if (limit !== 'historyBytes') {
      const result = await this.engine.limits.addUsage(namespace, limit, amount, limits[limit]);
      return result.ok ? ADMITTED : this.refuse(namespace, 'quota-exceeded', limit, QUOTA_RETRY_MS);
    }
    const share = this.shareOf(namespace);
    const need = amount - share.history;
    const step = Math.max(need, Math.min(HISTORY_STEP_BYTES, Math.floor(limits.historyBytes / 16)));
    let taken = await this.engine.limits.addUsage(namespace, 'historyBytes', step, limits.historyBytes);
    let got = step;
    if (!taken.ok && step > need) {
      taken = await this.engine.limits.addUsage(namespace, 'historyBytes', need, limits.historyBytes);
      got = need;
    }
    if (!taken.ok) return this.refuse(namespace, 'quota-exceeded', 'historyBytes', QUOTA_RETRY_MS);
    share.history += got - amount;
    return ADMITTED;
  }

  reportEvicted(namespace: string, messages: number, bytes: number): void {
    this.listener.evicted(namespace, messages, bytes);
  }

  /** Gives back what a reservation did not use, or what a deletion freed. */
  async release(namespace: string, limit: 'sessions' | 'machines' | 'historyBytes', amount: number): Promise<void> {
    if (amount <= 0) return;
    if (limit !== 'historyBytes') {
      await this.engine.limits.addUsage(namespace, limit, -amount, 0);
      return;
    }
    // Kept for the next messages up to one step; the rest goes back to the engine.
    const share = this.shareOf(namespace);
    share.history += amount;
    const keep = Math.min(HISTORY_STEP_BYTES, Math.floor(this.limitsNow(namespace).historyBytes / 16));
    const surplus = share.history - keep;
    if (surplus > 0) {
      share.history -= surplus;
      await this.engine.limits.addUsage(namespace, 'historyBytes', -surplus, 0);
    }
  }

  /**
   * Counts a history rewrite already made (a rewind: `removed` bytes cut, `added` bytes of the
   * agent's replacement rows stored). Never refused: the agent's own history has already moved,
   * and refusing the hub's copy of it would only make the two disagree.
   */
  async recordHistoryRewrite(namespace: string, removed: number, added: number): Promise<void> {
    const grown = added - removed;
    if (grown <= 0) return this.release(namespace, 'historyBytes', -grown);
    const share = this.shareOf(namespace);
    const fromShare = Math.min(share.history, grown);
    share.history -= fromShare;
    if (grown > fromShare)
      await this.engine.limits.addUsage(namespace, 'historyBytes', grown - fromShare, Number.MAX_SAFE_INTEGER);
  }

  /** Gives every unspent history step back to the engine (hub close). */
  async flush(): Promise<void> {
    await Promise.all(
      [...this.shares].map(async ([namespace, share]) => {
        const unspent = share.history;
        share.history = 0;
        if (unspent > 0) await this.engine.limits.addUsage(namespace, 'historyBytes', -unspent, 0);
      }),
    );
  }

  // --- administration (hapi-hub ns set-limits / ns limits) -------------------------------------

  setOverrides(namespace: string, changes: Partial<Record<LimitName, number | null>>): Promise<Record<string, number>> {
    this.cache.delete(namespace);
    return this.engine.limits.setOverrides(namespace, changes);
  }

  async describe(namespace: string): Promise<{
    effective: LimitValues;
    overrides: LimitOverrides;
    usage: Record<string, number>;
  }> {
    const overrides = await this.engine.limits.overrides(namespace);
    return {
      effective: this.merge(overrides),
      overrides: overrides as LimitOverrides,
      usage: await this.engine.limits.usage(namespace),
    };
  }

  listOverrides(): Promise<{ namespace: string; overrides: Record<string, number> }[]> {
    return this.engine.limits.listOverrides();
  }
}

/** About the JSON length of a value (exact for strings without escapes); deep values count 8. */
function approximateJsonBytes(value: unknown, depth: number): number {
  if (typeof value === 'string') return value.length + 2;
  if (typeof value !== 'object' || value === null || depth > 64) return 8;
  let total = 2;
  if (Array.isArray(value)) {
    for (const item of value) total += approximateJsonBytes(item, depth + 1) + 1;
    return total;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    total += key.length + 4 + approximateJsonBytes((value as Record<string, unknown>)[key], depth + 1);
  }
  return total;
}
