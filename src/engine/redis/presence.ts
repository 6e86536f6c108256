// Presence and live state.
//
// The truth is in the row: `deadline` and `live:*` fields of the session/machine hash, changed
// only by Lua scripts in the tenant slot. A global index (zsets of `<kind>|<ns>|<id>` scored by
// deadline, sharded so heartbeats do not all hit one Cluster slot) tells the sweeper where to
// look without scanning namespaces. The index is a hint that may be stale but never late:
// - refresh writes the index *before* the row, so a crash in between leaves at worst an early
//   or orphan index entry, never a row deadline the sweeper cannot find;
// - only the sweeper removes index entries (claim = atomic ZREM, so each entry goes to exactly
//   one sweeper), then re-checks the row's own deadline: rows refreshed since are re-indexed,
//   rows ended or deleted since are skipped.
import type { PresenceStore } from '../stores/presence.js';
import type { ExpiredPresence, PresenceKind, PresenceRefreshRequest, RefreshPresenceResult } from '../types.js';
import { arrayOf, decimal, encodeLiveFields, hashOf, liveFieldsOf, numberOf, stringsOf } from './codec.js';
import type { RedisContext } from './context.js';
import { decodeNamespace, encodeNamespace, globalKeys, PRESENCE_SHARDS, tenantKeys } from './keys.js';

const NOT_FOUND: RefreshPresenceResult = {
  found: false,
  becameActive: false,
  changed: [],
  broadcastDue: false,
  live: {},
  queued: 0,
};

/** Sweep rounds per call; each round claims or observes others claiming, so this only caps storms. */
const MAX_SWEEP_ROUNDS = 16;

interface IndexEntry {
  member: string;
  shard: number;
  deadline: number;
}

export function createPresenceStore(context: RedisContext): PresenceStore {
  const { scripts } = context;
  return {
    async refresh(ns, kind, id, input) {
      const [result] = await refreshMany(context, [{ namespace: ns, kind, id, input }]);
      return result ?? notFound();
    },

    async refreshMany(requests) {
      return refreshMany(context, requests);
    },

    async setLiveFields(ns, kind, id, fields) {
      const reply = await scripts.run('presenceSetLive', [rowKey(ns, kind, id)], encodeLiveFields(fields));
      return reply === null ? null : liveFieldsOf(hashOf(reply));
    },

    async markInactive(ns, kind, id, fields) {
      // The index entry stays: the sweeper drops it when it finds the row without a deadline.
      // Removing it here could race with a refresh that just re-added it.
      const reply = arrayOf(
        await scripts.run('presenceMarkInactive', [rowKey(ns, kind, id)], encodeLiveFields(fields)),
      );
      return { wasActive: reply[0] === 'ok' && reply[1] === 1 };
    },

    async expireOverdue(now, requestedLimit) {
      const limit = Math.floor(requestedLimit); // ZRANGEBYSCORE LIMIT takes integers only
      const expired: ExpiredPresence[] = [];
      for (let round = 0; round < MAX_SWEEP_ROUNDS && expired.length < limit; round += 1) {
        const candidates = await overdueCandidates(context, now, limit - expired.length);
        if (candidates.length === 0) break;
        const claimed = await claim(context, candidates, now);
        expired.push(...(await expireClaimed(context, claimed, now)));
      }
      return expired;
    },
  };
}

/**
 * Keep-alives in one script per namespace (one Cluster slot each; all the namespaces' scripts
 * run concurrently), which also count each session's queued prompts. Rows that are not active
 * yet get their index entry first (see presence-refresh.lua) and are then refreshed again; index
 * writes are one ZADD per index shard for the whole batch.
 */
async function refreshMany(
  context: RedisContext,
  requests: readonly PresenceRefreshRequest[],
): Promise<RefreshPresenceResult[]> {
  const results: RefreshPresenceResult[] = new Array(requests.length);
  const positions = requests.map((_, i) => i);
  const replies = await runRefreshBatches(context, requests, positions, false);
  const needIndex = positions.filter((i) => replies[i]?.[0] === 'index-needed');
  if (needIndex.length > 0) {
    await index(
      context,
      needIndex.map((i) => requests[i] as PresenceRefreshRequest),
    );
    const retried = await runRefreshBatches(context, requests, needIndex, true);
    for (const i of needIndex) replies[i] = retried[i] as unknown[];
  }
  const reindex: PresenceRefreshRequest[] = [];
  positions.forEach((i) => {
    const reply = replies[i] ?? [];
    const request = requests[i] as PresenceRefreshRequest;
    if (reply[0] !== 'ok') {
      results[i] = notFound();
      return;
    }
    // Half the time to live has passed since the entry was written: move it to the new
    // deadline, so the entry of a row that keeps beating does not fall due for the sweeper.
    if (reply[6] === 1) reindex.push(request);
    results[i] = {
      found: true,
      becameActive: reply[1] === 1,
      broadcastDue: reply[2] === 1,
      changed: stringsOf(reply[3]),
      live: liveFieldsOf(hashOf(reply[4]), ''),
      queued: Number(reply[5]),
    };
  });
  if (reindex.length > 0) await index(context, reindex);
  return results;
}

/** Runs the requests at `positions` (grouped by namespace, order kept); replies by position. */
async function runRefreshBatches(
  context: RedisContext,
  requests: readonly PresenceRefreshRequest[],
  positions: number[],
  indexed: boolean,
): Promise<unknown[][]> {
  const replies: unknown[][] = new Array(requests.length);
  const byNamespace = groupBy(positions, (i) => (requests[i] as PresenceRefreshRequest).namespace);
  await Promise.all(
    [...byNamespace.values()].map(async (group) => {
      const keys: string[] = [];
      const args: string[] = [String(group.length)];
      for (const i of group) {
        const { namespace: ns, kind, id, input } = requests[i] as PresenceRefreshRequest;
        keys.push(rowKey(ns, kind, id));
        if (kind === 'session') keys.push(tenantKeys.messageQueue(ns, id));
        const fields = encodeLiveFields(input.fields);
        const quiet = input.quietFields ?? [];
        args.push(
          kind === 'session' ? '1' : '0',
          decimal(input.deadline),
          decimal(input.activeAt),
          decimal(input.now),
          decimal(input.broadcastThrottleMs),
          indexed ? '1' : '0',
          String(fields.length / 2),
          ...fields,
          String(quiet.length),
          ...quiet,
        );
      }
      const batch = arrayOf(await context.scripts.run('presenceRefresh', keys, args));
      group.forEach((i, n) => {
        replies[i] = arrayOf(batch[n]);
      });
    }),
  );
  return replies;
}

/** Writes index entries at the requests' deadlines: one ZADD per index shard. */
async function index(context: RedisContext, requests: readonly PresenceRefreshRequest[]): Promise<void> {
  const byShard = new Map<number, string[]>();
  for (const { namespace, kind, id, input } of requests) {
    const member = indexMember(namespace, kind, id);
    const shard = shardOf(member);
    const args = byShard.get(shard) ?? [];
    // A later request for the same member in the batch has the later deadline: ZADD keeps the last.
    args.push(decimal(input.deadline), member);
    byShard.set(shard, args);
  }
  await Promise.all(
    [...byShard].map(([shard, args]) => context.client.zadd(globalKeys.presenceDeadlines(shard), ...args)),
  );
}

function notFound(): RefreshPresenceResult {
  return { ...NOT_FOUND, changed: [], live: {} };
}

/** The most overdue index entries across all shards (a read; claiming comes next). */
async function overdueCandidates(context: RedisContext, now: number, limit: number): Promise<IndexEntry[]> {
  const shards = Array.from({ length: PRESENCE_SHARDS }, (_, shard) => shard);
  const peeks = await Promise.all(
    shards.map((shard) =>
      context.client.zrangebyscore(
        globalKeys.presenceDeadlines(shard),
        '-inf',
        decimal(now),
        'WITHSCORES',
        'LIMIT',
        0,
        limit,
      ),
    ),
  );
  const entries: IndexEntry[] = [];
  peeks.forEach((flat, shard) => {
    for (let i = 0; i + 1 < flat.length; i += 2)
      entries.push({ member: flat[i] as string, shard, deadline: numberOf(flat[i + 1]) });
  });
  return entries.sort((a, b) => a.deadline - b.deadline).slice(0, limit);
}

/** Entries this call won (others may have claimed some of the candidates first). */
async function claim(context: RedisContext, candidates: IndexEntry[], now: number): Promise<IndexEntry[]> {
  const byShard = groupBy(candidates, (entry) => entry.shard);
  const won = new Set<string>();
  await Promise.all(
    [...byShard].map(async ([shard, entries]) => {
      const reply = await context.scripts.run(
        'presenceClaim',
        [globalKeys.presenceDeadlines(shard)],
        [decimal(now), ...entries.map((entry) => entry.member)],
      );
      for (const member of stringsOf(reply)) won.add(member);
    }),
  );
  return candidates.filter((entry) => won.has(entry.member));
}

async function expireClaimed(context: RedisContext, claimed: IndexEntry[], now: number): Promise<ExpiredPresence[]> {
  const parsed = claimed.map((entry) => ({ entry, target: parseIndexMember(entry.member) }));
  const byNamespace = groupBy(parsed, ({ target }) => target.namespace);
  const expiredMembers = new Set<string>();
  await Promise.all(
    [...byNamespace].map(async ([ns, items]) => {
      const outcomes = stringsOf(
        await context.scripts.run(
          'presenceExpire',
          items.map(({ target }) => rowKey(ns, target.kind, target.id)),
          [decimal(now), ...items.map(({ target }) => target.kind)],
        ),
      );
      await Promise.all(
        items.map(async ({ entry }, i) => {
          const outcome = outcomes[i];
          if (outcome === 'expired') expiredMembers.add(entry.member);
          else if (outcome !== undefined && outcome !== 'gone') {
            // Refreshed after it was indexed: put it back under its real deadline (LT: never
            // later than a deadline a concurrent refresh may have written meanwhile).
            await context.client.zadd(globalKeys.presenceDeadlines(entry.shard), 'LT', outcome, entry.member);
          }
        }),
      );
    }),
  );
  return parsed.filter(({ entry }) => expiredMembers.has(entry.member)).map(({ target }) => target);
}

function rowKey(ns: string, kind: PresenceKind, id: string): string {
  return kind === 'session' ? tenantKeys.session(ns, id) : tenantKeys.machine(ns, id);
}

/** `<s|m>|<encoded ns>|<id>`: the encoded namespace has no `|`, so the id may contain anything. */
function indexMember(ns: string, kind: PresenceKind, id: string): string {
  return `${kind === 'session' ? 's' : 'm'}|${encodeNamespace(ns)}|${id}`;
}

function parseIndexMember(member: string): ExpiredPresence {
  const first = member.indexOf('|');
  const second = member.indexOf('|', first + 1);
  return {
    namespace: decodeNamespace(member.slice(first + 1, second)),
    kind: member.slice(0, first) === 's' ? 'session' : 'machine',
    id: member.slice(second + 1),
  };
}

/** FNV-1a: a stable spread of members over the index shards. */
function shardOf(member: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < member.length; i += 1) {
    hash ^= member.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % PRESENCE_SHARDS;
}

function groupBy<T, K>(items: T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
