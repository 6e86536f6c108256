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
//
// That `close` listener (a once-wrapper around `() => res.emit('close')`, for middlewares that
// wait for the response to end) also keeps the stand-in response itself, its event table and
// the closures alive for the connection's lifetime: ~0.5 KiB per idle websocket in a heap
// snapshot. No middleware of ours listens for it, so it is removed once the connection is open.
import type { EventEmitter } from 'node:events';
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Server as IoServer } from 'socket.io';

/** engine.io's `WebSocketResponse`: `req` only serves set/get/removeHeader during middlewares. */
interface UpgradeResponse {
  req: IncomingMessage | null;
  /** The upgraded TCP socket. */
  socket?: EventEmitter;
}

/** An upgrade response of a connection being opened, and its `close` forwarder on the TCP socket. */
interface Opening {
  res: UpgradeResponse;
  forwarder: ((...args: unknown[]) => void) | null;
}

/**
 * The listener `WebSocketResponse` put on the TCP socket's `close` (registered in its
 * constructor, right before the middlewares run, so the last one): recognised by its body, so a
 * future engine.io that no longer adds it (or adds another) leaves the socket's listeners alone.
 */
function closeForwarderOf(res: UpgradeResponse): Opening['forwarder'] {
  const last = res.socket?.rawListeners('close').at(-1) as ((...args: unknown[]) => void) | undefined;
  const inner = (last as { listener?: unknown } | undefined)?.listener;
  return typeof inner === 'function' && /\.emit\(\s*["']close["']\s*\)/.test(String(inner)) ? (last ?? null) : null;
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
  const opening = new WeakMap<IncomingMessage, Opening>();

  // Middlewares run last-registered-last, so every other middleware (CORS) has set its headers by
  // now; the response's `req` is still needed until then, hence released later, not here.
  engine.use((req, res, next) => {
    if (isUpgradeResponse(res, req)) {
      const sid = req._query?.sid;
      if (sid === undefined) opening.set(req, { res, forwarder: closeForwarderOf(res) });
      // A polling connection moving to websocket: released once the upgrade is complete.
      else {
        const forwarder = closeForwarderOf(res);
        engine.clients[sid]?.once('upgrade', () => {
          res.req = null;
          if (forwarder) res.socket?.removeListener('close', forwarder);
        });
      }
    }
    next();
  });

  engine.on('connection', (socket) => {
    const req = socket.request;
    if (!req) return;
    socket.request = null;
    const open = opening.get(req);
    if (!open) return;
    if (open.res.req === req) open.res.req = null;
    if (open.forwarder) open.res.socket?.removeListener('close', open.forwarder);
  });
}
