// Socket.IO Redis adapter for the Redis engine: room emits and targeted acks (`rpc-request`)
// reach sockets on every worker of every host.
//
// Why the classic adapter (`createAdapter`, PUBLISH/PSUBSCRIBE) and not the sharded one
// (`createShardedAdapter`, SPUBLISH/SSUBSCRIBE; docs/decisions.md#classic-redis-adapter): the
// sharded adapter does not work with ioredis — ioredis does not deliver sharded pub/sub messages
// the way the adapter expects (redis/ioredis#1759), and the hub uses ioredis everywhere. The
// classic adapter sends each broadcast to every worker; a worker without members of the room drops
// it cheaply (hasRoom check) before decoding.
//
// Two dedicated connections: `adapter-pub` (PUBLISH, PUBSUB NUMSUB) and `adapter-sub` (a
// connection in subscriber mode cannot run other commands). Both come from
// createRedisConnection, so they fail fast while Redis is down and reconnect by themselves; ioredis
// re-subscribes the sub connection after a reconnect (autoResubscribe).
//
// Failure containment (docs/design.md#failure-policy: Redis down must not crash a worker): the adapter library calls
// `pubClient.publish(...)` and the sub client's (un)subscribe without handling the returned
// promises, and Socket.IO's `emitWithAck` calls `adapter.serverCount()` without a catch. With
// ioredis those promises reject at once while Redis is unreachable, and an unhandled rejection
// ends a Node process. So every promise the adapter gets from a client has a handler attached
// (the failure is logged and counted; callers that await it still see the rejection), and
// serverCount falls back to "this server only" when Redis cannot answer NUMSUB.
import { RedisAdapter, type RedisAdapterOptions } from '@socket.io/redis-adapter';
import type { Namespace } from 'socket.io';
import { connectRedis, createRedisConnection, type RedisClient } from '../redis/connection.js';
import type { Logger } from '../ops/logger.js';
import { DirectedRpcChannel, type DirectedRpcResult } from './directed-rpc.js';

export type SocketAdapterFactory = (nsp: Namespace) => RedisAdapter;

export interface SocketAdapter {
  /** Pass as Socket.IO's `adapter` option (createHub's `adapter`). */
  factory: SocketAdapterFactory;
  /** Failed adapter publishes since start (messages lost while Redis was down). */
  publishFailures(): number;
  /** Closes both connections; call after the Socket.IO server is closed. */
  close(): Promise<void>;
}

export interface SocketAdapterOptions {
  log: Logger;
  /** Channel prefix; every worker of a deployment must use the same one. */
  key?: string;
}

/** Socket.IO's own default pingInterval+pingTimeout bound how long a broadcast ack may take. */
const ADAPTER_REQUEST_TIMEOUT_MS = 5_000;

export async function createSocketAdapter(redisUrl: string, options: SocketAdapterOptions): Promise<SocketAdapter> {
  const pub = createRedisConnection(redisUrl, 'adapter-pub');
  const sub = createRedisConnection(redisUrl, 'adapter-sub');
  try {
    await Promise.all([connectRedis(pub), connectRedis(sub)]);
  } catch (error) {
    pub.disconnect();
    sub.disconnect();
    throw error;
  }
  let failures = 0;
  let lastLoggedAt = 0;
  const onFailure = (command: string, error: unknown): void => {
    failures += 1;
    // One line per second at most: during an outage every broadcast fails.
    const now = Date.now();
    if (now - lastLoggedAt < 1_000) return;
    lastLoggedAt = now;
    options.log.warn(
      { err: error, command, failures },
      'socket.io adapter: Redis command failed (broadcast not delivered to other workers)',
    );
  };
  const guardedPub = withHandledPromises(pub, onFailure);
  const guardedSub = withHandledPromises(sub, onFailure);
  const key = options.key ?? 'hapi-sio';
  const adapterOptions: Partial<RedisAdapterOptions> = {
    key,
    requestsTimeout: ADAPTER_REQUEST_TIMEOUT_MS,
    // Replies to a request (e.g. the client count and acks of a broadcast-with-ack) go to the
    // requesting worker's own channel instead of waking every worker.
    publishOnSpecificResponseChannel: true,
  };
  return {
    // A `function`, not an arrow: Socket.IO instantiates the option with `new`.
    factory: function createNamespaceAdapter(nsp: Namespace) {
      return new ResilientRedisAdapter(nsp, guardedPub, guardedSub, adapterOptions, key, options.log);
    },
    publishFailures: () => failures,
    async close() {
      await Promise.all([quietly(pub), quietly(sub)]);
    },
  };
}

/**
 * The Redis adapter, plus directed RPC (directed-rpc.ts): the CLI gateway finds `rpcAddress` and
 * `requestRpcOn` on the namespace's adapter and sends each call to the one worker holding the
 * socket instead of broadcasting it.
 */
class ResilientRedisAdapter extends RedisAdapter {
  private readonly rpc: DirectedRpcChannel;

  constructor(
    nsp: Namespace,
    pub: RedisClient,
    sub: RedisClient,
    opts: Partial<RedisAdapterOptions>,
    key: string,
    private readonly log: Logger,
  ) {
    super(nsp, pub, sub, opts);
    this.rpc = new DirectedRpcChannel(nsp, pub, sub, key, String(this.uid), log);
  }

  /** This worker's id, as RPC routes name it. */
  get workerId(): string {
    return this.rpc.uid;
  }

  /** The RPC route value for a socket of this worker: `<socket id>@<worker id>`. */
  rpcAddress(socketId: string): string {
    return this.rpc.address(socketId);
  }

  /** Calls `rpc-request` on a socket of worker `workerId` over that worker's channel. */
  requestRpcOn(
    workerId: string,
    socketId: string,
    payload: { method: string; params: string },
    timeoutMs: number,
  ): Promise<DirectedRpcResult> {
    return this.rpc.request(workerId, socketId, payload, timeoutMs);
  }

  override close(): Promise<void> | void {
    this.rpc.close();
    return super.close();
  }

  /**
   * Number of workers subscribed to this namespace's request channel: Socket.IO's emitWithAck
   * waits for that many "client count" replies before it resolves. When Redis cannot answer, only
   * this worker can be reached anyway, so the ack completes with the local sockets' answers
   * (an RPC to a socket elsewhere then reports "socket gone" instead of crashing the worker).
   */
  override async serverCount(): Promise<number> {
    try {
      return await super.serverCount();
    } catch (error) {
      this.log.debug({ err: error }, 'socket.io adapter: serverCount unavailable, counting this worker only');
      return 1;
    }
  }
}

/** The client methods the adapter calls and drops the returned promise of. */
const FIRE_AND_FORGET = new Set(['publish', 'subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe']);

/**
 * A view of the client whose fire-and-forget methods return the same promises, each with a
 * rejection handler already attached, so a dropped promise cannot crash the process. Everything
 * else (including `constructor`, which the adapter inspects to detect a Cluster) passes through.
 */
function withHandledPromises(client: RedisClient, onFailure: (command: string, error: unknown) => void): RedisClient {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string' || !FIRE_AND_FORGET.has(property)) return value;
      return (...args: unknown[]): unknown => {
        // Run against the real client so ioredis' internal `this` stays intact.
        const result: unknown = Reflect.apply(value, target, args);
        if (result instanceof Promise) result.catch((error: unknown) => onFailure(property, error));
        return result;
      };
    },
  });
}

async function quietly(client: RedisClient): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
