// What every simulated client needs: where the hub is, the credentials, the run's stats, and a
// shared "stop now" signal that bounds every loop besides its own count and deadline.
import { io, type Socket } from 'socket.io-client';
import { performance } from 'node:perf_hooks';
import type { LoadtestOptions } from './options.js';
import type { RunStats } from './stats.js';

export interface SimContext {
  readonly options: LoadtestOptions;
  readonly url: string;
  /** The CLI access token as sent (`base` or `base:namespace`). */
  readonly token: string;
  /** Random per run: markers of other runs seen on the same hub are ignored. */
  readonly runId: string;
  readonly stats: RunStats;
  /** True once the run is over (deadline, failure, or done): loops stop and sockets close. */
  stopped(): boolean;
  /**
   * Source address of the WebSocket connections (e.g. 127.0.0.2): one address has only ~28 000
   * ephemeral ports towards one hub port, so a large idle fleet spreads over several.
   */
  readonly localAddress?: string;
}

export type Transport = 'websocket' | 'polling';

export function transportFor(options: LoadtestOptions, index: number): Transport {
  if (options.transport === 'mixed') return index % 2 === 0 ? 'websocket' : 'polling';
  return options.transport;
}

/**
 * Opens one `/cli` socket (its own Engine.IO connection — `forceNew` — like one real CLI
 * process) and resolves when connected. No automatic reconnection: a drop is counted as an error
 * rather than hidden behind a retry.
 */
export function connectCliSocket(
  ctx: SimContext,
  auth: Record<string, string>,
  transport: Transport,
): Promise<Socket | null> {
  const started = performance.now();
  const socket = io(`${ctx.url}/cli`, {
    path: '/socket.io/',
    forceNew: true,
    reconnection: false,
    transports: [transport],
    timeout: ctx.options.connectTimeoutMs,
    auth,
    ...(ctx.localAddress !== undefined ? { localAddress: ctx.localAddress } : {}),
  });
  return new Promise((resolve) => {
    let settled = false;
    const timer = setTimeout(() => finish(null, 'connect-timeout'), ctx.options.connectTimeoutMs + 1_000);
    const finish = (result: Socket | null, errorKind?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('connect_error', onError);
      if (errorKind) ctx.stats.error(errorKind);
      if (!result) socket.close();
      resolve(result);
    };
    const onConnect = (): void => {
      ctx.stats.connected(performance.now() - started);
      ctx.stats.openSockets += 1;
      socket.on('disconnect', (reason: string) => {
        ctx.stats.openSockets -= 1;
        // `io client disconnect` is our own close(); anything else is a drop by the hub or network.
        if (reason !== 'io client disconnect' && !ctx.stopped())
          ctx.stats.error(`disconnect-${reason.replace(/\s+/g, '-')}`);
      });
      socket.on('error', (error: unknown) => {
        const code =
          typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
            ? (error as { code: string }).code
            : 'unknown';
        ctx.stats.error(`hub-error-${code}`);
      });
      finish(socket);
    };
    const onError = (error: Error): void => {
      finish(null, /timeout/i.test(error.message) ? 'connect-timeout' : 'connect-error');
    };
    socket.on('connect', onConnect);
    socket.on('connect_error', onError);
  });
}
