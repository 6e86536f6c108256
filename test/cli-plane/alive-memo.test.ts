// The keep-alive memo (services/alive-memo.ts), end to end on two hubs sharing one real
// redis-server: beats that repeat the last one skip the engine, and anything another hub does to
// the session (end it, queue a prompt) makes the next beat go to the engine again.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { Engine } from '../../src/engine/engine.js';
import { createSocketAdapter, type SocketAdapter } from '../../src/cluster/socket-adapter.js';
import { createRedisEngine } from '../../src/engine/redis/engine.js';
import { createLogger } from '../../src/ops/logger.js';
import type { AppendedEvent } from '../../src/engine/types.js';
import { UpdateEnvelopeSchema } from '../../src/protocol/socket-events.js';
import {
  cliRest,
  closeAll,
  connectCli,
  isNewMessage,
  nextEvent,
  pingBarrier,
  type CliRest,
} from '../helpers/cli-client.js';
import { createSession, fetchSession, uniqueNamespace } from '../helpers/fixtures.js';
import { randomToken, startTestHub, type TestHub } from '../helpers/hub.js';
import { getTestRedisUrl } from '../helpers/redis-server.js';

const ENGINE_OPTIONS = { eventLogMaxEvents: 4096, eventLogMaxBytes: 8 << 20, messageHistoryLimit: 0 };

let stopRedis: () => Promise<void>;
const engines: Engine[] = [];
const adapters: SocketAdapter[] = [];
let hubA: TestHub;
let hubB: TestHub;
/** Beats hub A's engine was asked to apply. */
let beatsApplied = 0;

beforeAll(async () => {
  const redis = await getTestRedisUrl();
  stopRedis = redis.stop;
  const token = randomToken();
  const open = async () => {
    // Engine and Socket.IO adapter on the same Redis: the two hubs act as workers of one cluster.
    const engine = await createRedisEngine(redis.url, ENGINE_OPTIONS);
    const adapter = await createSocketAdapter(redis.url, { log: createLogger('silent') });
    engines.push(engine);
    adapters.push(adapter);
    return startTestHub({ engine, adapter: adapter.factory, redisUrl: redis.url, cliApiToken: token });
  };
  hubA = await open();
  hubB = await open();
  const refreshMany = hubA.engine.presence.refreshMany.bind(hubA.engine.presence);
  hubA.engine.presence.refreshMany = (requests) => {
    beatsApplied += requests.length;
    return refreshMany(requests);
  };
});

afterAll(async () => {
  await hubA.close();
  await hubB.close();
  await Promise.all(adapters.map((adapter) => adapter.close()));
  await Promise.all(engines.map((engine) => engine.close()));
  await stopRedis();
});

/** Resolves with the first event of `ns` hub A's event feed delivers that matches. */
async function deliveredToA(ns: string, matches: (event: Record<string, unknown>) => boolean): Promise<void> {
  let stop: (() => Promise<void>) | undefined;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('event not delivered to hub A within 5 s')), 5_000);
    // Subscribed after hub A's own memo, so the memo has seen the event when this resolves.
    void hubA.hub.services.events
      .subscribe((appended: AppendedEvent) => {
        if (appended.namespace !== ns) return;
        if (!matches(JSON.parse(appended.json) as Record<string, unknown>)) return;
        clearTimeout(timer);
        resolve();
      })
      .then((unsubscribe) => {
        stop = unsubscribe;
      }, reject);
  });
  await stop?.();
}

describe('keep-alive memo across two hubs on one Redis', () => {
  let ns: string;
  let rest: CliRest;
  let sid: string;
  let cli: Socket;

  beforeEach(async () => {
    ns = uniqueNamespace('memo');
    rest = cliRest(hubA.url, hubA.tokenFor(ns));
    sid = (await createSession(rest)).id;
    cli = await connectCli(hubA.url, { token: hubA.tokenFor(ns), sessionId: sid });
    return () => closeAll(cli);
  });

  const beat = async (fields: Record<string, unknown> = {}) => {
    cli.emit('session-alive', { sid, time: hubA.clock.now, thinking: false, mode: 'remote', ...fields });
    await pingBarrier(cli);
  };

  /**
   * The activating beat, once hub A has seen its announcement (and so every event about the
   * session published before it, such as its creation, which would make the memo forget it).
   */
  const firstBeat = async () => {
    const announced = deliveredToA(
      ns,
      (event) => event.type === 'session-updated' && (event.data as { active?: boolean }).active === true,
    );
    await beat();
    await announced;
  };

  it('answers repeated beats without the engine; the next sent beat brings the newest activeAt', async () => {
    const start = beatsApplied;
    await firstBeat();
    expect(beatsApplied - start).toBe(1);
    for (let i = 0; i < 4; i += 1) {
      hubA.clock.advance(2_000);
      await beat();
    }
    expect(beatsApplied - start).toBe(1);
    expect((await fetchSession(rest, sid)).active).toBe(true);

    // The throttle elapsed: this beat is sent and the stored activeAt is its time.
    hubA.clock.advance(2_000);
    await beat();
    expect(beatsApplied - start).toBe(2);
    expect((await fetchSession(rest, sid)).activeAt).toBe(hubA.clock.now);
  });

  it('sends a beat that changes something at once, inside the throttle', async () => {
    await firstBeat();
    hubA.clock.advance(2_000);
    const start = beatsApplied;
    await beat({ thinking: true });
    expect(beatsApplied - start).toBe(1);
    expect((await fetchSession(rest, sid)).thinking).toBe(true);
  });

  it('reactivates at the next beat a session another hub ended meanwhile', async () => {
    await firstBeat();
    hubA.clock.advance(2_000);
    await beat();
    const ended = deliveredToA(
      ns,
      (event) => event.type === 'session-updated' && (event.data as { active?: boolean }).active === false,
    );
    await hubB.hub.services.sessions.end(ns, sid, undefined);
    await ended;
    expect((await fetchSession(rest, sid)).active).toBe(false);

    const start = beatsApplied;
    hubA.clock.advance(2_000);
    await beat();
    expect(beatsApplied - start).toBe(1);
    expect((await fetchSession(rest, sid)).active).toBe(true);
  });

  it('re-sends at the next beat a prompt queued through another hub', async () => {
    await firstBeat();
    hubA.clock.advance(2_000);
    await beat();
    const queued = deliveredToA(ns, (event) => event.type === 'message-received');
    const row = await hubB.hub.services.messages.sendFromWeb(ns, sid, { text: 'from b', localId: 'q1' });
    expect(row).not.toBeNull();
    await queued;
    // Delivered live first (the CLI is in the session room on hub A)…
    const live = UpdateEnvelopeSchema.parse(await nextEvent(cli, 'update', isNewMessage(sid, 'q1')));
    // …and again on the next keep-alive, which the memo must not swallow.
    hubA.clock.advance(2_000);
    cli.emit('session-alive', { sid, time: hubA.clock.now, thinking: false, mode: 'remote' });
    expect(UpdateEnvelopeSchema.parse(await nextEvent(cli, 'update', isNewMessage(sid, 'q1')))).toEqual(live);
  });
});
