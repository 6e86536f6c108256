// The Redis engine against a real 3-master Redis Cluster: the shared engine contract (every
// multi-key script must stay inside one slot, and pub/sub must reach subscribers on any node),
// plus checks that tenants really spread over the masters.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisEngine } from '../../src/engine/redis/engine.js';
import type { Engine } from '../../src/engine/engine.js';
import type { AppendedEvent } from '../../src/engine/types.js';
import { type RedisClusterHandle, startRedisCluster } from '../helpers/redis-server.js';
import { describeEngineContract } from './contract.js';
import { createSession, DEFAULT_OPTIONS, messageInput, T0, uniqueNamespace } from './contract/harness.js';

let cluster: RedisClusterHandle;
let barrier: PubSubBarrier;

beforeAll(async () => {
  cluster = await startRedisCluster();
  barrier = await createPubSubBarrier(cluster.ports);
}, 60_000);

afterAll(async () => {
  await barrier?.close();
  await cluster?.stop();
});

describeEngineContract('redis-cluster', async (options) => {
  // Cluster PUBLISH reaches other nodes over the asynchronous cluster bus, so an event a previous
  // test appended (and saw delivered on its own subscriber's node) can still be on its way to
  // another node, and reach a subscriber this test opens there. Contract tests that count every
  // delivery regardless of namespace would see it. Wait until earlier publishes have landed
  // everywhere, so each test starts as it would on a standalone Redis.
  await barrier.settle();
  const engine = await createRedisEngine(cluster.url, options);
  return { engine, cleanup: () => engine.close() };
});

describe('Redis engine on Cluster', () => {
  const engines: Engine[] = [];
  afterAll(async () => {
    await Promise.all(engines.map((engine) => engine.close()));
  });

  it('spreads namespaces over the masters and serves each one fully from its node', async () => {
    const [a, b] = [
      await createRedisEngine(cluster.url, DEFAULT_OPTIONS),
      await createRedisEngine(cluster.url, DEFAULT_OPTIONS),
    ];
    engines.push(a, b);
    const namespaces = Array.from({ length: 12 }, () => uniqueNamespace());
    const received: AppendedEvent[] = [];
    await b.events.subscribe((event) => {
      if (namespaces.includes(event.namespace)) received.push(event);
    });

    for (const ns of namespaces) {
      const session = await createSession(a, ns);
      await a.messages.append(ns, session.id, messageInput({ createdAt: T0, localId: 'l1', invokedAt: null }));
      expect(await b.messages.markInvoked(ns, session.id, ['l1'], T0 + 1)).toEqual(['l1']);
      await a.events.append(ns, JSON.stringify({ ns, n: 1 }));
      await a.events.append(ns, JSON.stringify({ ns, n: 2 }));
    }
    await vi.waitFor(() => expect(received).toHaveLength(namespaces.length * 2), { timeout: 5_000, interval: 10 });
    for (const ns of namespaces) {
      expect(received.filter((event) => event.namespace === ns).map((event) => event.offset)).toEqual([1, 2]);
    }

    // Which master owns each namespace's slot: more than one master must be in use.
    const probe = new Redis(cluster.ports[0] ?? 0, '127.0.0.1');
    try {
      const owners = new Set<number>();
      const slots = (await probe.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
      for (const ns of namespaces) {
        const slot = Number(await probe.call('CLUSTER', 'KEYSLOT', `hapi:{${ns}}:sessions`));
        const range = slots.find(([start, end]) => slot >= start && slot <= end);
        if (range) owners.add(range[2][1]);
      }
      expect(owners.size).toBeGreaterThan(1);
    } finally {
      probe.disconnect();
    }
  });
});

interface PubSubBarrier {
  /** Resolves once everything published on any node before the call reached every node. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A barrier over Cluster pub/sub: each node publishes a marker, and a subscriber on each node
 * waits for the markers of all nodes. A node forwards publishes to a peer over one ordered link,
 * so once a node's marker arrived everywhere, so did everything it published before.
 */
async function createPubSubBarrier(ports: number[]): Promise<PubSubBarrier> {
  const channel = `hapi-test-barrier:${randomUUID()}`;
  const publishers = ports.map((port) => new Redis(port, '127.0.0.1'));
  const subscribers = ports.map((port) => new Redis(port, '127.0.0.1'));
  const seen = subscribers.map(() => new Set<string>());
  await Promise.all(
    subscribers.map(async (subscriber, i) => {
      subscriber.on('message', (_channel: string, marker: string) => seen[i]?.add(marker));
      await subscriber.subscribe(channel);
    }),
  );
  return {
    async settle() {
      const round = randomUUID();
      const markers = ports.map((port) => `${round}:${port}`);
      await Promise.all(publishers.map((publisher, i) => publisher.publish(channel, markers[i] ?? '')));
      await vi.waitFor(
        () => expect(seen.every((markersSeen) => markers.every((marker) => markersSeen.has(marker)))).toBe(true),
        {
          timeout: 5_000,
          interval: 2,
        },
      );
    },
    async close() {
      for (const client of [...publishers, ...subscribers]) client.disconnect();
    },
  };
}
