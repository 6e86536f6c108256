// Coalesced keep-alives, end to end: session-alive beats from many CLIs arriving together reach
// the engine in few refreshMany batches, and each beat keeps its own outcome (activation, one
// session-updated per session per throttle window); a beat that repeats the last one inside the
// throttle never reaches the engine. Memory engine and Redis (real redis-server).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { Engine } from '../../src/engine/engine.js';
import { createRedisEngine } from '../../src/engine/redis/engine.js';
import { cliRest, closeAll, connectCli, pingBarrier } from '../helpers/cli-client.js';
import { createSession, fetchSession, uniqueNamespace } from '../helpers/fixtures.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { getTestRedisUrl } from '../helpers/redis-server.js';

const CLIS = 20;
const ENGINE_OPTIONS = { eventLogMaxEvents: 4096, eventLogMaxBytes: 8 << 20, messageHistoryLimit: 0 };

/** Records the size of every batch the engine's presence store receives. */
function countBatches(engine: Engine): number[] {
  const sizes: number[] = [];
  const original = engine.presence.refreshMany.bind(engine.presence);
  engine.presence.refreshMany = (requests) => {
    sizes.push(requests.length);
    return original(requests);
  };
  return sizes;
}

async function activeAnnouncements(engine: Engine, ns: string): Promise<Map<string, number>> {
  const { events } = await engine.events.read(ns, 0);
  const counts = new Map<string, number>();
  for (const event of events) {
    const parsed = JSON.parse(event.json) as { type: string; sessionId?: string; data?: { active?: boolean } };
    if (parsed.type === 'session-updated' && parsed.sessionId && parsed.data?.active === true) {
      counts.set(parsed.sessionId, (counts.get(parsed.sessionId) ?? 0) + 1);
    }
  }
  return counts;
}

describe.each([
  ['memory', async () => ({ hub: await startTestHub(), stop: async () => undefined })],
  [
    'redis',
    async () => {
      const redis = await getTestRedisUrl();
      const engine = await createRedisEngine(redis.url, ENGINE_OPTIONS);
      const hub = await startTestHub({ engine, redisUrl: redis.url });
      return {
        hub,
        stop: async () => {
          await engine.close();
          await redis.stop();
        },
      };
    },
  ],
] as const)('coalesced session-alive (%s engine)', (_name, start) => {
  let hub: TestHub;
  let stop: () => Promise<void>;
  beforeAll(async () => {
    ({ hub, stop } = await start());
  });
  afterAll(async () => {
    await hub.close();
    await stop();
  });

  it('beats sent together are applied in batches, each session activated and announced once', async () => {
    const ns = uniqueNamespace('beats');
    const token = hub.tokenFor(ns);
    const rest = cliRest(hub.url, token);
    const sessions = await Promise.all(Array.from({ length: CLIS }, () => createSession(rest)));
    const sockets: Socket[] = await Promise.all(
      sessions.map((session) => connectCli(hub.url, { token, sessionId: session.id })),
    );
    try {
      const sizes = countBatches(hub.engine);
      const beat = () => {
        for (const [i, socket] of sockets.entries()) {
          socket.emit('session-alive', { sid: sessions[i]?.id, time: hub.clock.now, thinking: false, mode: 'remote' });
        }
        return Promise.all(sockets.map((socket) => pingBarrier(socket)));
      };
      await beat();
      expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(CLIS);
      // Coalesced: fewer engine calls than beats (all 20 were sent in one turn of the client).
      expect(sizes.length).toBeLessThan(CLIS);
      for (const session of sessions) expect((await fetchSession(rest, session.id)).active).toBe(true);
      const first = await activeAnnouncements(hub.engine, ns);
      expect([...first.keys()].sort()).toEqual(sessions.map((session) => session.id).sort());
      expect([...first.values()].every((count) => count === 1)).toBe(true);

      // Inside the 10 s throttle the second round repeats the first: it announces nothing and
      // does not even reach the engine (services/alive-memo.ts).
      hub.clock.advance(2_000);
      await beat();
      expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(CLIS);
      expect(await activeAnnouncements(hub.engine, ns)).toEqual(first);

      // Past the throttle: every beat goes to the engine again, one more announcement each.
      hub.clock.advance(10_000);
      await beat();
      expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(2 * CLIS);
      const third = await activeAnnouncements(hub.engine, ns);
      expect([...third.values()].every((count) => count === 2)).toBe(true);
    } finally {
      closeAll(...sockets);
    }
  });
});
