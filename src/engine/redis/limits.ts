// Limits on Redis: one Lua script per atomic step (bucket take, lease acquire/renew, usage add),
// every key under the namespace's hash tag. Overrides are a hash per namespace plus a global set
// of the namespaces that have any (read only by `hapi-hub ns limits`).
import type { LimitStore } from '../stores/limits.js';
import { arrayOf, decimal } from './codec.js';
import type { RedisContext } from './context.js';
import { decodeNamespace, encodeNamespace, globalKeys, tenantKeys } from './keys.js';

function numbersOf(hash: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, text] of Object.entries(hash)) out[name] = Number(text);
  return out;
}

function pair(reply: unknown): [number, number] {
  const [a, b] = arrayOf(reply);
  return [Number(a), Number(b)];
}

export function createLimitStore(context: RedisContext): LimitStore {
  const { client, scripts } = context;
  const overrides = async (ns: string) => numbersOf(await client.hgetall(tenantKeys.limitOverrides(ns)));
  return {
    overrides,

    async setOverrides(ns, changes) {
      const key = tenantKeys.limitOverrides(ns);
      const set = Object.entries(changes).filter((entry): entry is [string, number] => entry[1] !== null);
      const removed = Object.entries(changes)
        .filter(([, value]) => value === null)
        .map(([name]) => name);
      if (set.length > 0)
        await client.hset(key, Object.fromEntries(set.map(([name, value]) => [name, decimal(value)])));
      if (removed.length > 0) await client.hdel(key, ...removed);
      const now = await overrides(ns);
      if (Object.keys(now).length > 0) await client.sadd(globalKeys.limitOverrideNamespaces(), encodeNamespace(ns));
      else await client.srem(globalKeys.limitOverrideNamespaces(), encodeNamespace(ns));
      return now;
    },

    async listOverrides() {
      const names = (await client.smembers(globalKeys.limitOverrideNamespaces())).map(decodeNamespace).sort();
      const listed = await Promise.all(
        names.map(async (namespace) => ({ namespace, overrides: await overrides(namespace) })),
      );
      return listed.filter((entry) => Object.keys(entry.overrides).length > 0);
    },

    async take(ns, bucket, spec, want, min, now) {
      const [granted, retryAfterMs] = pair(
        await scripts.run(
          'limitTake',
          [tenantKeys.limitBucket(ns, bucket)],
          [spec.ratePerSec, spec.capacity, want, min, decimal(now)],
        ),
      );
      return { granted, retryAfterMs };
    },

    async acquireLease(ns, kind, holder, limit, expiresAt, now) {
      const [ok, held] = pair(
        await scripts.run(
          'limitLeaseAcquire',
          [tenantKeys.limitLeases(ns, kind)],
          [holder, limit, decimal(expiresAt), decimal(now)],
        ),
      );
      return { ok: ok === 1, held };
    },

    async renewLeases(ns, kind, holders, expiresAt, now) {
      if (holders.length === 0) return;
      await scripts.run(
        'limitLeaseRenew',
        [tenantKeys.limitLeases(ns, kind)],
        [decimal(expiresAt), decimal(now), ...holders],
      );
    },

    async releaseLease(ns, kind, holder) {
      await client.zrem(tenantKeys.limitLeases(ns, kind), holder);
    },

    async addUsage(ns, counter, delta, limit) {
      const [ok, used] = pair(await scripts.run('limitUsageAdd', [tenantKeys.limitUsage(ns)], [counter, delta, limit]));
      return { ok: ok === 1, used };
    },

    async usage(ns) {
      return numbersOf(await client.hgetall(tenantKeys.limitUsage(ns)));
    },
  };
}
