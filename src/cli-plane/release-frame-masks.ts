// Lets the last websocket frame a connection received be garbage-collected once its message is
// delivered, instead of living until the connection's next frame.
//
// Frames from a client are masked. `ws` reads a frame's 4-byte mask as a slice of the chunk the
// frame arrived in and keeps that slice on its receiver (`_mask`) until the next frame replaces
// it — so every idle connection holds on to its last TCP read (its backing store and two buffer
// objects). An idle CLI sends a frame every 2 s (`session-alive`); the retained chunk survives
// two scavenges and is promoted, so each beat leaves one more dead chunk in the old generation
// until a full collection: about half of what an idle connection promotes per beat
// (BENCHMARKS.md, "Young generation"). The mask is only read while its frame's payload is being
// unmasked, which is over when the message is emitted.
//
// The hook is a listener shared by every connection (no closure per socket), added to the `ws`
// socket of each websocket transport: at connection time, and when a polling connection upgrades.
// Without `ws`'s receiver where it is expected (another engine.io transport or a future `ws`),
// nothing is changed.
import type { EventEmitter } from 'node:events';
import type { Server as IoServer } from 'socket.io';

interface WsReceiver {
  _mask?: unknown;
}

interface WsSocket extends EventEmitter {
  _receiver?: WsReceiver | null;
}

interface EngineTransport {
  name: string;
  socket?: unknown;
}

interface EngineSocket {
  transport: EngineTransport;
  on(event: 'upgrade', listener: (transport: EngineTransport) => void): unknown;
}

/** Listener on a `ws` socket's `message` event; `this` is the socket. */
function dropFrameMask(this: WsSocket): void {
  const receiver = this._receiver;
  if (receiver) receiver._mask = undefined;
}

function isWsSocket(value: unknown): value is WsSocket {
  if (typeof value !== 'object' || value === null) return false;
  const receiver = (value as { _receiver?: unknown })._receiver;
  return (
    typeof (value as { on?: unknown }).on === 'function' &&
    typeof receiver === 'object' &&
    receiver !== null &&
    '_mask' in receiver
  );
}

function hook(transport: EngineTransport): void {
  if (transport.name === 'websocket' && isWsSocket(transport.socket)) transport.socket.on('message', dropFrameMask);
}

export function releaseFrameMasks(io: IoServer): void {
  const engine = io.engine as unknown as { on(event: 'connection', listener: (socket: EngineSocket) => void): unknown };
  engine.on('connection', (socket) => {
    hook(socket.transport);
    if (socket.transport.name !== 'websocket') socket.on('upgrade', hook);
  });
}
