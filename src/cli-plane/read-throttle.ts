// Backpressure for a rate-limited /cli socket: the hub stops reading its websocket until the
// refusal's retryAfterMs has passed. A client that ignores its refusals then fills its own TCP
// buffers instead of the hub's CPU (every event it sent is still read, and answered, later).
// Long-polling sockets are not paused (their requests are answered one by one anyway).
import type { CliSocket } from './handshake.js';

/** Longest pause, so a socket is never stalled for long by one refusal. */
const MAX_PAUSE_MS = 1_000;
/** Shortest pause: a flooder waiting for acks then sends at most one window per pause. */
const MIN_PAUSE_MS = 250;

interface PausableWebSocket {
  pause(): void;
  resume(): void;
}

const paused = new WeakSet<CliSocket>();

function websocketOf(socket: CliSocket): PausableWebSocket | null {
  // engine.io's websocket transport keeps the `ws` WebSocket as `socket` (not in its types).
  const transport = (socket.conn as unknown as { transport?: { name?: unknown; socket?: unknown } }).transport;
  const ws = transport?.name === 'websocket' ? (transport.socket as Partial<PausableWebSocket> | undefined) : undefined;
  return ws && typeof ws.pause === 'function' && typeof ws.resume === 'function' ? (ws as PausableWebSocket) : null;
}

export function pauseReading(socket: CliSocket, retryAfterMs: number | undefined): void {
  if (paused.has(socket) || !socket.connected) return;
  const ws = websocketOf(socket);
  if (!ws) return;
  paused.add(socket);
  ws.pause();
  const timer = setTimeout(
    () => {
      paused.delete(socket);
      ws.resume();
    },
    Math.min(MAX_PAUSE_MS, Math.max(MIN_PAUSE_MS, retryAfterMs ?? MIN_PAUSE_MS)),
  );
  timer.unref();
}
