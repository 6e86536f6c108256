// Lets the HTTP request that opened an engine.io connection be garbage-collected once the
// connection is established, instead of living (with its headers, raw headers, URL and stream
// state: ~2 KiB) as long as the connection.
//
// engine.io keeps that request in two places: `Socket.request` of the connection, and — for a
// websocket — the `req` of the stand-in response it gives middlewares (`WebSocketResponse`),
// which stays reachable from a `close` listener on the TCP socket for the socket's lifetime.
// Socket.IO's advice ("discard the initial HTTP request", `rawSocket.request = null`) only covers
// the first. Nothing of ours reads the request after the handshake: the /cli handshake uses
// `socket.handshake.auth`, which comes from the CONNECT packet, not the request. A Socket.IO
// socket created after this (its namespace CONNECT arrives later) gets a `handshake` without
// headers, url or query.
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Server as IoServer } from 'socket.io';

/** engine.io's `WebSocketResponse`: `req` only serves set/get/removeHeader during middlewares. */
interface UpgradeResponse {
  req: IncomingMessage | null;
}

interface EngineRequest extends IncomingMessage {
  _query?: Record<string, string | undefined>;
}

interface EngineSocket {
  request: IncomingMessage | null;
  once(event: 'upgrade', listener: () => void): unknown;
}

function isUpgradeResponse(res: unknown, req: IncomingMessage): res is UpgradeResponse {
  return (
    !(res instanceof ServerResponse) &&
    typeof res === 'object' &&
    res !== null &&
    (res as { req?: unknown }).req === req
  );
}

export function releaseHandshakeRequests(io: IoServer): void {
  const engine = io.engine as unknown as {
    use(middleware: (req: EngineRequest, res: unknown, next: () => void) => void): void;
    on(event: 'connection', listener: (socket: EngineSocket) => void): unknown;
    clients: Record<string, EngineSocket | undefined>;
  };
  // Upgrade responses of requests that open a new connection, until that connection is open.
  const opening = new WeakMap<IncomingMessage, UpgradeResponse>();

  // Middlewares run last-registered-last, so every other middleware (CORS) has set its headers by
  // now; the response's `req` is still needed until then, hence released later, not here.
  engine.use((req, res, next) => {
    if (isUpgradeResponse(res, req)) {
      const sid = req._query?.sid;
      if (sid === undefined) opening.set(req, res);
      // A polling connection moving to websocket: released once the upgrade is complete.
      else engine.clients[sid]?.once('upgrade', () => (res.req = null));
    }
    next();
  });

  engine.on('connection', (socket) => {
    const req = socket.request;
    if (!req) return;
    socket.request = null;
    const res = opening.get(req);
    if (res?.req === req) res.req = null;
  });
}
