// Issue 16's noisy neighbour, on real hub processes: tenant A floods messages as fast as its
// sockets can (4 sockets, 64 acks in flight each, no pause when refused) while tenant B keeps
// working. B's message round trip p99 and /health p50 stay within 2× of B alone, measured in the
// same test in interleaved rounds (alone, flooded, alone, flooded, ...) so machine-wide drift hits
// both sides; every write A made is acked ok (and stored exactly once) or refused with a reason.
// And the memory bound: a 64 KB-message flood keeps the hub under a documented RSS ceiling.
//
// Timing assertions are the exception the issue asks for; to be robust they pool ≥ 600 samples a
// side after a warm-up, compare percentiles, and allow 5 ms of absolute slack (1–3 ms values on a
// shared machine move by that much from timer and scheduler noise alone). Figures are printed.
import { loadavg } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type HubProcess,
  type LatencySample,
  openTenantB,
  spawnHubProcess,
  startFloodProcess,
  storedLocalIds,
  summarise,
} from '../helpers/noisy-neighbour.js';
import { type RedisServerHandle, startRedisServer } from '../helpers/redis-server.js';

const ROUNDS = 3;
const SAMPLES_PER_ROUND = 200;
const WARMUP_SAMPLES = 40;
/** B's pace: one round trip and one /health every 50 ms (20 events/s, within its own limits). */
const INTERVAL_MS = 50;
const SLACK_MS = 5;
/** The documented ceiling (README, Limits): a 64 KB flood with HAPI_LIMIT_HISTORY_BYTES=64 MiB. */
const RSS_CEILING_BYTES = 768 * 1024 * 1024;

/**
 * The namespace's rates sized to what this test machine sustains (a shared 2-core box: ~200
 * stored messages/s on Redis): limits are set for a deployment's capacity, and A must be limited
 * well below it for B to be unaffected. Burst = 10 s of rate, as always.
 */
const LIMITS = { HAPI_LIMIT_SOCKET_EVENTS_PER_SEC: '25', HAPI_LIMIT_NAMESPACE_EVENTS_PER_SEC: '50' };

const merge = (a: LatencySample, b: LatencySample): LatencySample => ({
  healthMs: [...a.healthMs, ...b.healthMs],
  roundTripMs: [...a.roundTripMs, ...b.roundTripMs],
});

async function noisyNeighbour(hub: HubProcess, label: string): Promise<void> {
  const b = await openTenantB(hub, 'tenant-b');
  let alone: LatencySample = { healthMs: [], roundTripMs: [] };
  let flooded: LatencySample = { healthMs: [], roundTripMs: [] };
  const ok = new Set<string>();
  const refused: Record<string, number> = {};
  let sent = 0;
  let sessionId = '';
  try {
    await b.measure(WARMUP_SAMPLES, INTERVAL_MS);
    for (let round = 0; round < ROUNDS; round += 1) {
      alone = merge(alone, await b.measure(SAMPLES_PER_ROUND, INTERVAL_MS));
      const flood = await startFloodProcess(hub, 'tenant-a', { sockets: 4, window: 64, messageBytes: 1024 });
      // Measured while A is being limited: after its burst allowance is spent, then a warm-up.
      await flood.limited;
      await b.measure(WARMUP_SAMPLES, INTERVAL_MS);
      flooded = merge(flooded, await b.measure(SAMPLES_PER_ROUND, INTERVAL_MS));
      const tally = await flood.stop();
      // Every write answered: acked ok, or refused with a reason — none unanswered.
      expect(tally.unanswered).toEqual([]);
      for (const id of tally.ok) ok.add(`${tally.sessionId}/${id}`);
      for (const [key, n] of Object.entries(tally.refused)) refused[key] = (refused[key] ?? 0) + n;
      sent += tally.sent;
      expect(tally.retryAfterSeen).toBe(true);
      // Each round floods a session of its own; its REST pages hold exactly the acked writes.
      const stored = await storedLocalIds(hub, 'tenant-a', tally.sessionId);
      expect(new Set(stored.seqs).size).toBe(stored.seqs.length);
      expect([...stored.localIds].sort()).toEqual([...tally.ok].sort());
      sessionId = tally.sessionId;
    }
  } finally {
    b.close();
  }
  const a = summarise(alone);
  const f = summarise(flooded);
  console.log(
    `[noisy-neighbour ${label}] load ${loadavg()
      .map((v) => v.toFixed(1))
      .join(
        ' ',
      )} | B alone: /health p50 ${a.healthP50.toFixed(1)} ms, round trip p50 ${a.roundTripP50.toFixed(1)} / p99 ${a.roundTripP99.toFixed(1)} ms | B while A floods: /health p50 ${f.healthP50.toFixed(1)} ms, round trip p50 ${f.roundTripP50.toFixed(1)} / p99 ${f.roundTripP99.toFixed(1)} ms | A: ${sent} sent, ${ok.size} ok, refused ${JSON.stringify(refused)} (last session ${sessionId})`,
  );
  // A was limited in every round (retryAfterSeen above); every answer was ok or a refusal.
  const refusedTotal = Object.values(refused).reduce((x, y) => x + y, 0);
  expect(refusedTotal).toBeGreaterThan(0);
  expect(Object.keys(refused).every((key) => key.startsWith('error:'))).toBe(true);
  expect(ok.size + refusedTotal).toBe(sent);
  // B within 2× of B alone.
  expect(f.healthP50).toBeLessThanOrEqual(2 * a.healthP50 + SLACK_MS);
  expect(f.roundTripP99).toBeLessThanOrEqual(2 * a.roundTripP99 + SLACK_MS);
}

describe('noisy neighbour: memory engine, one process', () => {
  let hub: HubProcess;
  beforeAll(async () => {
    hub = await spawnHubProcess({ ...LIMITS, HAPI_LIMIT_HISTORY_BYTES: String(64 * 1024 * 1024) });
  }, 120_000);
  afterAll(async () => {
    await hub?.stop();
  });

  it("tenant A's flood is limited; B stays within 2× of its unloaded latency; A's writes all answered, none lost or doubled", async () => {
    await noisyNeighbour(hub, 'memory');
  }, 300_000);

  it('a 64 KB-message flood keeps the hub under the documented RSS ceiling', async () => {
    const before = hub.rssBytes();
    const flood = await startFloodProcess(hub, 'tenant-big', { sockets: 4, window: 16, messageBytes: 64 * 1024 });
    const b = await openTenantB(hub, 'tenant-b2');
    let peak = before;
    // Load duration: 600 paced B samples (~12 s or more) while the flood runs, RSS read at each.
    for (let i = 0; i < 60; i += 1) {
      await b.measure(10, INTERVAL_MS);
      peak = Math.max(peak, hub.rssBytes());
    }
    b.close();
    const tally = await flood.stop();
    const stored = await storedLocalIds(hub, 'tenant-big', tally.sessionId);
    console.log(
      `[noisy-neighbour 64KB] load ${loadavg()[0]?.toFixed(1)} | RSS before ${(before / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB | A: ${tally.sent} sent (${((tally.sent * 64) / 1024).toFixed(0)} MiB), ${tally.ok.length} ok, refused ${JSON.stringify(tally.refused)}`,
    );
    expect(peak).toBeLessThan(RSS_CEILING_BYTES);
    expect(tally.unanswered).toEqual([]);
    expect([...stored.localIds].sort()).toEqual([...tally.ok].sort());
    expect(Object.keys(tally.refused).length).toBeGreaterThan(0);
  }, 300_000);
});

describe('noisy neighbour: Redis, two workers', () => {
  let redis: RedisServerHandle;
  let hub: HubProcess;
  beforeAll(async () => {
    redis = await startRedisServer();
    hub = await spawnHubProcess({ ...LIMITS, REDIS_URL: redis.url, HAPI_WORKERS: '2' });
  }, 120_000);
  afterAll(async () => {
    await hub?.stop();
    await redis?.stop();
  });

  it("tenant A's flood is limited across both workers; B stays within 2×; A's writes all answered, none lost or doubled", async () => {
    await noisyNeighbour(hub, 'redis, 2 workers');
  }, 300_000);
});
