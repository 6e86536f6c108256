// The Redis engine against a real standalone redis-server: the shared engine contract, then what
// only a shared, networked store has (several engine instances, pub/sub fan-out, outages).
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseRedisUrl } from '../../src/redis/connection.js';
import { createRedisEngine } from '../../src/engine/redis/engine.js';
import type { Engine } from '../../src/engine/engine.js';
import { type AppendedEvent, EngineUnavailableError } from '../../src/engine/types.js';
import {
  getTestRedisUrl,
  type RedisServerHandle,
  startRedisSentinel,
  startRedisServer,
} from '../helpers/redis-server.js';
import { describeEngineContract } from './contract.js';
import { createSession, DEFAULT_OPTIONS, messageInput, T0, uniqueNamespace } from './contract/harness.js';

let redisUrl = '';
let stopRedis: () => Promise<void> = async () => undefined;

beforeAll(async () => {
  const redis = await getTestRedisUrl();
  redisUrl = redis.url;
  stopRedis = redis.stop;
});

afterAll(async () => {
  await stopRedis();
});

describeEngineContract('redis', async (options) => {
  const engine = await createRedisEngine(redisUrl, options);
  return { engine, cleanup: () => engine.close() };
});

describe('Redis engine: several instances on one Redis', () => {
  const engines: Engine[] = [];
  const open = async () => {
    const engine = await createRedisEngine(redisUrl, DEFAULT_OPTIONS);
    engines.push(engine);
    return engine;
  };

  afterAll(async () => {
    await Promise.all(engines.map((engine) => engine.close()));
  });

  it('reports its kind and answers ping', async () => {
    const engine = await open();
    expect(engine.kind).toBe('redis');
    await expect(engine.ping()).resolves.toBeUndefined();
  });

  it('runs its scripts again after the server emptied its script cache (SCRIPT FLUSH)', async () => {
    const engine = await open();
    const ns = uniqueNamespace();
    const session = await createSession(engine, ns);
    const admin = new Redis(redisUrl);
    try {
      await admin.script('FLUSH');
      expect(await admin.info('memory')).toMatch(/number_of_cached_scripts:0\r?\n/);
      const appended = await engine.messages.append(ns, session.id, messageInput({ createdAt: T0 }));
      expect(appended.ok && appended.message.seq).toBe(1);
      expect((await engine.messages.listAfterSeq(ns, session.id, 0, 10)).map((row) => row.seq)).toEqual([1]);
      // Each retry sent the source, so the server knows those scripts again.
      expect(await admin.info('memory')).not.toMatch(/number_of_cached_scripts:0\r?\n/);
    } finally {
      admin.disconnect();
    }
  });

  it("sees the other instance's writes", async () => {
    const [a, b] = [await open(), await open()];
    const ns = uniqueNamespace();
    const session = await createSession(a, ns);
    expect(await b.sessions.get(ns, session.id)).toEqual(session);
    const cas = await b.sessions.compareAndSet(
      ns,
      session.id,
      'metadata',
      1,
      { by: 'b' },
      { now: T0 + 1, touchUpdatedAt: true },
    );
    expect(cas).toEqual({ result: 'success', version: 2, value: { by: 'b' } });
    expect((await a.sessions.get(ns, session.id))?.metadata).toEqual({ by: 'b' });

    const fromA = await a.messages.append(ns, session.id, messageInput({ createdAt: T0 }));
    const fromB = await b.messages.append(ns, session.id, messageInput({ createdAt: T0 + 1 }));
    expect([fromA, fromB].map((result) => (result.ok ? result.message.seq : 0))).toEqual([1, 2]);
    expect((await a.messages.listAfterSeq(ns, session.id, 0, 10)).map((row) => row.seq)).toEqual([1, 2]);

    await a.presence.refresh(ns, 'session', session.id, {
      deadline: T0 + 10,
      activeAt: T0,
      fields: {},
      now: T0,
      broadcastThrottleMs: 1000,
    });
    expect((await b.sessions.get(ns, session.id))?.live.active).toBe(true);
    const expiredByB = await b.presence.expireOverdue(T0 + 10, 100);
    expect(expiredByB).toContainEqual({ namespace: ns, kind: 'session', id: session.id });
    expect((await a.sessions.get(ns, session.id))?.live.active).toBe(false);
  });

  it("delivers instance A's events to instance B's listener in offset order", async () => {
    const [a, b] = [await open(), await open()];
    const ns = uniqueNamespace();
    const received: AppendedEvent[] = [];
    const unsubscribe = await b.events.subscribe((event) => {
      if (event.namespace === ns) received.push(event);
    });
    const appended = await Promise.all(
      Array.from({ length: 25 }, (_, i) => a.events.append(ns, JSON.stringify({ i }))),
    );
    await vi.waitFor(() => expect(received).toHaveLength(25), { timeout: 5_000, interval: 10 });
    expect(received.map((event) => event.offset)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect([...received].sort((x, y) => x.offset - y.offset)).toEqual(
      [...appended].sort((x, y) => x.offset - y.offset),
    );

    const read = await b.events.read(ns, 20);
    expect(read).toMatchObject({ epoch: appended[0]?.epoch, nextOffset: 26, oldestOffset: 1 });
    expect(read.events.map((event) => event.offset)).toEqual([21, 22, 23, 24, 25]);
    await unsubscribe();
  });

  it("delivers instance A's batched events (appendMany: one message) to instance B once each, in offset order", async () => {
    const [a, b] = [await open(), await open()];
    const ns = `{tag} ${uniqueNamespace()}`;
    const received: AppendedEvent[] = [];
    const unsubscribe = await b.events.subscribe((event) => {
      if (event.namespace === ns) received.push(event);
    });
    const appended = (
      await Promise.all([
        a.events.appendMany(ns, ['{"b":1}', '{"b":2,"t":"a b\\nc ✓"}', '{"b":3}']),
        a.events.append(ns, '{"s":1}'),
        a.events.appendMany(
          ns,
          Array.from({ length: 40 }, (_, i) => JSON.stringify({ i, pad: ' '.repeat(i) })),
        ),
      ])
    ).flat();
    await vi.waitFor(() => expect(received).toHaveLength(44), { timeout: 5_000, interval: 10 });
    expect(received.map((event) => event.offset)).toEqual(Array.from({ length: 44 }, (_, i) => i + 1));
    expect(received).toEqual([...appended].sort((x, y) => x.offset - y.offset));
    // No late duplicate: the next event is the next one delivered.
    const next = await a.events.append(ns, '{"next":1}');
    await vi.waitFor(() => expect(received).toHaveLength(45), { timeout: 5_000, interval: 10 });
    expect(received[44]).toEqual(next);
    const read = await b.events.read(ns, 41);
    expect(read.events.map((event) => event.offset)).toEqual([42, 43, 44, 45]);
    await unsubscribe();
  });

  it('keeps namespaces with key-significant characters apart', async () => {
    const engine = await open();
    const suffix = randomUUID();
    const tricky = [`{a}:${suffix}`, `a}:${suffix}`, `a:${suffix}`, `a|b ${suffix}`];
    for (const ns of tricky) await engine.events.append(ns, JSON.stringify({ ns }));
    for (const ns of tricky) {
      expect((await engine.events.read(ns, 0)).events).toEqual([{ offset: 1, json: JSON.stringify({ ns }) }]);
      const session = await createSession(engine, ns);
      expect((await engine.sessions.list(ns)).map((row) => row.id)).toEqual([session.id]);
      await engine.presence.refresh(ns, 'session', session.id, {
        deadline: T0 + 1,
        activeAt: T0,
        fields: {},
        now: T0,
        broadcastThrottleMs: 0,
      });
    }
    const expired = await engine.presence.expireOverdue(T0 + 1, 100);
    expect(
      expired
        .map((entry) => entry.namespace)
        .filter((ns) => tricky.includes(ns))
        .sort(),
    ).toEqual([...tricky].sort());
  });

  it('round-trips large message bodies (stored compressed) and odd JSON', async () => {
    const engine = await open();
    const ns = uniqueNamespace();
    const session = await createSession(engine, ns);
    const big = { text: 'lorem ipsum '.repeat(5_000), list: [], empty: {}, n: 1.5e-7, big: Number.MAX_SAFE_INTEGER };
    for (const content of [big, 'plain string', null, [[], {}], 0]) {
      const result = await engine.messages.append(ns, session.id, messageInput({ createdAt: T0, content }));
      if (!result.ok) throw new Error(result.reason);
      expect((await engine.messages.get(ns, session.id, result.message.id))?.content).toEqual(content);
    }
    const raw = new Redis(redisUrl);
    try {
      const stored = await raw.hgetall(`hapi:{${ns}}:messages:${session.id}`);
      expect(stored['r:1:c']?.startsWith('z:')).toBe(true);
      expect((stored['r:1:c'] ?? '').length).toBeLessThan(JSON.stringify(big).length / 10);
    } finally {
      raw.disconnect();
    }
  });

  it('fails fast when Redis cannot be reached at start-up', async () => {
    const started = Date.now();
    await expect(createRedisEngine('redis://127.0.0.1:1', DEFAULT_OPTIONS)).rejects.toBeInstanceOf(
      EngineUnavailableError,
    );
    expect(Date.now() - started).toBeLessThan(12_000);
  });
});

describe('Redis engine: outages and restarts', () => {
  let server: RedisServerHandle;
  let engine: Engine;
  let listenerEngine: Engine;

  beforeAll(async () => {
    server = await startRedisServer({ appendonly: true });
    engine = await createRedisEngine(server.url, DEFAULT_OPTIONS);
    listenerEngine = await createRedisEngine(server.url, DEFAULT_OPTIONS);
  });

  afterAll(async () => {
    await engine.close();
    await listenerEngine.close();
    await server.stop();
  });

  it('rejects writes with EngineUnavailableError while Redis is down and recovers by itself after a restart', async () => {
    const ns = uniqueNamespace();
    const session = await createSession(engine, ns);
    const received: AppendedEvent[] = [];
    await listenerEngine.events.subscribe((event) => {
      if (event.namespace === ns) received.push(event);
    });
    await engine.events.append(ns, '{"before":true}');
    await vi.waitFor(() => expect(received).toHaveLength(1), { timeout: 5_000, interval: 10 });

    await server.stop();
    const started = Date.now();
    await expect(engine.messages.append(ns, session.id, messageInput({ createdAt: T0 }))).rejects.toBeInstanceOf(
      EngineUnavailableError,
    );
    await expect(engine.sessions.get(ns, session.id)).rejects.toBeInstanceOf(EngineUnavailableError);
    await expect(engine.ping()).rejects.toBeInstanceOf(EngineUnavailableError);
    expect(Date.now() - started).toBeLessThan(6_000);

    await server.restart();
    // The same engine object reconnects in the background; poll until it answers.
    await vi.waitFor(() => engine.ping(), { timeout: 10_000, interval: 50 });
    // Data written before the outage survived (AOF) and writes work again.
    expect(await engine.sessions.get(ns, session.id)).toEqual(session);
    const appended = await engine.messages.append(ns, session.id, messageInput({ createdAt: T0 }));
    expect(appended).toMatchObject({ ok: true, inserted: true, message: { seq: 1 } });

    // The other instance's subscriber re-subscribed by itself: live events flow again.
    await vi.waitFor(
      async () => {
        await engine.events.append(ns, '{"after":true}');
        expect(received.some((event) => event.json === '{"after":true}')).toBe(true);
      },
      { timeout: 10_000, interval: 100 },
    );
    const offsets = received.map((event) => event.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
  });

  it('fails a command that is in flight when Redis dies, instead of holding it', async () => {
    const ns = uniqueNamespace();
    const session = await createSession(engine, ns);
    // A busy script stalls the server, so the engine's next command sits unanswered on the wire.
    const blocker = new Redis(server.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    blocker.on('error', () => undefined);
    const blocking = blocker.eval('while true do end', 0).catch((error: unknown) => error);
    await vi.waitFor(async () => expect(await probeBusy(server.url)).toBe(true), { timeout: 5_000, interval: 20 });
    const inFlight = engine.sessions.get(ns, session.id).then(
      () => 'resolved',
      (error: unknown) => error,
    );
    const killedAt = Date.now();
    server.kill();
    expect(await inFlight).toBeInstanceOf(EngineUnavailableError);
    expect(Date.now() - killedAt).toBeLessThan(1_000);
    await blocking;
    blocker.disconnect();

    await server.restart();
    await vi.waitFor(() => engine.ping(), { timeout: 10_000, interval: 50 });
    // appendfsync always: the session written before the crash is still there.
    expect(await engine.sessions.get(ns, session.id)).toEqual(session);
  });

  it('starts a new event-log epoch when the log was lost', async () => {
    const ns = uniqueNamespace();
    const first = await engine.events.append(ns, '{"n":1}');
    await engine.events.append(ns, '{"n":2}');
    const raw = new Redis(server.url);
    try {
      await raw.flushall();
    } finally {
      raw.disconnect();
    }
    const afterLoss = await engine.events.read(ns, 2);
    expect(afterLoss.epoch).not.toBe(first.epoch);
    expect(afterLoss).toMatchObject({ nextOffset: 1, oldestOffset: 1, events: [] });
    const next = await engine.events.append(ns, '{"n":3}');
    expect(next).toMatchObject({ epoch: afterLoss.epoch, offset: 1 });
  });
});

describe('Redis engine through Sentinel', () => {
  it('finds the master through a sentinel and serves reads, writes and events', async () => {
    const master = await startRedisServer();
    const sentinel = await startRedisSentinel(master.port);
    const engine = await createRedisEngine(sentinel.url, DEFAULT_OPTIONS);
    try {
      const ns = uniqueNamespace();
      const received: AppendedEvent[] = [];
      await engine.events.subscribe((event) => {
        if (event.namespace === ns) received.push(event);
      });
      const session = await createSession(engine, ns);
      expect(await engine.sessions.get(ns, session.id)).toEqual(session);
      const appended = await engine.events.append(ns, '{"via":"sentinel"}');
      await vi.waitFor(() => expect(received).toEqual([appended]), { timeout: 5_000, interval: 10 });
      // The data really is on the monitored master.
      const direct = new Redis(master.url);
      try {
        expect(await direct.exists(`hapi:{${ns}}:session:${session.id}`)).toBe(1);
      } finally {
        direct.disconnect();
      }
    } finally {
      await engine.close();
      await sentinel.stop();
      await master.stop();
    }
  });
});

describe('Redis connection URLs', () => {
  it('parses standalone, Sentinel and Cluster URLs', () => {
    expect(parseRedisUrl('redis://:pw@127.0.0.1:6380/2')).toEqual({
      mode: 'standalone',
      url: 'redis://:pw@127.0.0.1:6380/2',
    });
    expect(parseRedisUrl('redis+sentinel://:s%40cret@10.0.0.1:26379,10.0.0.2:26380/mymaster?db=3')).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26380 },
      ],
      masterName: 'mymaster',
      username: undefined,
      password: 's@cret',
      sentinelPassword: undefined,
      db: 3,
    });
    expect(parseRedisUrl('redis+cluster://hub:pw@127.0.0.1:7000,[::1]:7001?tls=1')).toEqual({
      mode: 'cluster',
      nodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: '::1', port: 7001 },
      ],
      username: 'hub',
      password: 'pw',
      tls: true,
    });
  });

  it('rejects URLs it cannot use', () => {
    expect(() => parseRedisUrl('http://127.0.0.1:6379')).toThrow(/scheme/);
    expect(() => parseRedisUrl('redis+sentinel://127.0.0.1:26379')).toThrow(/master name/);
    expect(() => parseRedisUrl('redis+cluster://127.0.0.1:notaport')).toThrow(/host:port/);
  });
});

/** True while the server answers BUSY (a script is running past lua-time-limit) or not at all. */
async function probeBusy(url: string): Promise<boolean> {
  const probe = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, commandTimeout: 200 });
  probe.on('error', () => undefined);
  try {
    await probe.ping();
    return false;
  } catch (error) {
    return error instanceof Error && (error.message.startsWith('BUSY') || error.message.includes('timed out'));
  } finally {
    probe.disconnect();
  }
}
