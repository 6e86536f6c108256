// What an open /cli connection keeps in the hub: not the HTTP request that opened it (engine.io
// would otherwise hold it, with its headers, for the connection's lifetime), nor the stand-in
// response engine.io gives middlewares for a websocket upgrade (kept by a `close` listener on the
// TCP socket), nor the last websocket frame it received (kept by the frame's mask).
import { IncomingMessage, ServerResponse } from 'node:http';
import v8 from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { closeAll, connectCli, emitAck } from '../helpers/cli-client.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

const PER_TRANSPORT = 20;

function liveRequests(): number {
  // Forces a full GC first, so only reachable requests are counted.
  return v8.queryObjects(IncomingMessage, { format: 'count' });
}

describe('an open connection does not keep its opening request', () => {
  let t: TestHub;
  const sockets: Socket[] = [];
  /** engine.io's `WebSocketResponse` class (not exported), caught from a middleware. */
  let upgradeResponse: (new (...args: never[]) => object) | null = null;
  beforeAll(async () => {
    t = await startTestHub();
    const engine = t.hub.io.engine as unknown as {
      use(middleware: (req: IncomingMessage, res: object, next: () => void) => void): void;
    };
    engine.use((_req, res, next) => {
      if (!(res instanceof ServerResponse)) upgradeResponse = res.constructor as new (...args: never[]) => object;
      next();
    });
  });
  afterAll(async () => {
    closeAll(...sockets);
    await t.close();
  });

  it('websocket, and polling upgraded to websocket', async () => {
    const before = liveRequests();
    sockets.push(...(await connectOverBothTransports(t)));

    expect(Object.values(engineClients(t)).every((client) => client.request === null)).toBe(true);
    // Before: one request per websocket connection, two per upgraded one (handshake + upgrade).
    expect(liveRequests() - before).toBeLessThan(PER_TRANSPORT / 2);
    // Before: one stand-in response per websocket (those of upgrades included).
    expect(upgradeResponse).not.toBeNull();
    if (upgradeResponse) expect(v8.queryObjects(upgradeResponse, { format: 'count' })).toBeLessThan(PER_TRANSPORT / 2);
    // The connections still work: each answers an event after the release.
    for (const socket of sockets) await emitAck(socket, 'ping');
  });
});

/**
 * PER_TRANSPORT sockets on websocket and as many on polling, each of which has handled an event,
 * once every connection is on websocket (the polling ones upgrade right after the handshake; the
 * ack goes out on whichever transport is current).
 */
async function connectOverBothTransports(t: TestHub): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (const transports of [['websocket'], ['polling', 'websocket']] as const) {
    for (let i = 0; i < PER_TRANSPORT; i++)
      sockets.push(await connectCli(t.url, { token: t.token }, { transports: [...transports] }));
  }
  for (const socket of sockets) await emitAck(socket, 'ping');
  await expect
    .poll(() => Object.values(engineClients(t)).every((client) => client.transport.name === 'websocket'), {
      timeout: 5_000,
    })
    .toBe(true);
  return sockets;
}

function engineClients(t: TestHub): Record<string, { request: unknown; transport: { name: string } }> {
  return (t.hub.io.engine as unknown as { clients: Record<string, { request: unknown; transport: { name: string } }> })
    .clients;
}

describe('an idle connection does not keep its last websocket frame', () => {
  let t: TestHub;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    closeAll(...sockets);
    await t.close();
  });

  it('websocket, and polling upgraded to websocket: no frame mask, and so no TCP read, is retained', async () => {
    sockets.push(...(await connectOverBothTransports(t)));
    // Every connection receives a frame on its websocket (after the upgrade, for polling ones).
    for (const socket of sockets) await emitAck(socket, 'ping');
    const masks = Object.values(engineClients(t)).map(
      (client) =>
        (client.transport as unknown as { socket: { _receiver: { _mask?: unknown } } }).socket._receiver._mask,
    );
    expect(masks).toHaveLength(2 * PER_TRANSPORT);
    // Kept, each would be a slice of its own TCP read (the whole frame's ArrayBuffer).
    expect(masks.filter((mask) => mask !== undefined)).toEqual([]);
  });
});
