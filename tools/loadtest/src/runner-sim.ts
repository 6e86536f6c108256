// One simulated runner (machine daemon): `POST /cli/machines`, a machine-scoped `/cli` socket,
// `machine-alive` on an interval, and RPC handlers registered like the real runner's
// (`<machineId>:<method>`) that answer `rpc-request` at once with a JSON string, as the CLI's
// RpcHandlerManager does. The hub-side RPC round-trip is what the rpc phase measures.
import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { z } from 'zod';
import { RpcRequestSchema } from '../../../src/protocol/socket-events.js';
import { connectCliSocket, type SimContext, type Transport } from './context.js';
import { failureKind, requestJson } from './http.js';

const CreatedMachineSchema = z.object({ machine: z.object({ id: z.string().min(1) }) });
const PathsParamsSchema = z.object({ paths: z.array(z.string()) });

export const RUNNER_METHODS = ['path-exists', 'list-directory'] as const;

function answer(method: string, params: unknown): unknown {
  if (method === 'path-exists') {
    const parsed = PathsParamsSchema.safeParse(params);
    return parsed.success
      ? { exists: Object.fromEntries(parsed.data.paths.map((p) => [p, true])) }
      : { error: 'Invalid params' };
  }
  if (method === 'list-directory') return { success: true, entries: [{ name: 'README.md', type: 'file', size: 1 }] };
  return { error: 'Method not found' };
}

function parseParams(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return null;
  }
}

export class RunnerSim {
  readonly machineId = randomUUID();
  socket: Socket | null = null;
  rpcAnswered = 0;
  private aliveTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    readonly index: number,
    private readonly ctx: SimContext,
    readonly transport: Transport,
  ) {}

  async createMachine(): Promise<boolean> {
    const outcome = await requestJson('POST', `${this.ctx.url}/cli/machines`, {
      bearer: this.ctx.token,
      timeoutMs: this.ctx.options.connectTimeoutMs,
      body: {
        id: this.machineId,
        metadata: {
          host: `loadtest-${this.index}`,
          platform: 'linux',
          happyCliVersion: '0.30.7',
          homeDir: '/tmp',
          displayName: `loadtest ${this.index}`,
        },
        runnerState: { status: 'running', pid: process.pid, startedAt: Date.now() },
      },
    });
    const parsed = outcome.status === 200 ? CreatedMachineSchema.safeParse(outcome.body) : null;
    if (!parsed?.success) {
      this.ctx.stats.error(failureKind('machine-create', outcome));
      return false;
    }
    this.ctx.stats.sessionCreated(outcome.ms);
    return true;
  }

  /** Connects, registers the RPC methods and waits for a `ping` ack as a barrier. */
  async connect(): Promise<boolean> {
    if (this.closed) return false;
    const socket = await connectCliSocket(
      this.ctx,
      { token: this.ctx.token, clientType: 'machine-scoped', machineId: this.machineId },
      this.transport,
    );
    if (!socket) return false;
    this.socket = socket;
    socket.on('rpc-request', (raw: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return;
      const request = RpcRequestSchema.safeParse(raw);
      if (!request.success) {
        this.ctx.stats.error('rpc-request-invalid');
        (ack as (reply: string) => void)(JSON.stringify({ error: 'Invalid request' }));
        return;
      }
      const method = request.data.method.slice(this.machineId.length + 1);
      this.rpcAnswered += 1;
      (ack as (reply: string) => void)(JSON.stringify(answer(method, parseParams(request.data.params))));
    });
    for (const method of RUNNER_METHODS) socket.emit('rpc-register', { method: `${this.machineId}:${method}` });
    this.startAlive();
    try {
      await socket.timeout(this.ctx.options.connectTimeoutMs).emitWithAck('ping');
    } catch {
      this.ctx.stats.error('runner-ping-timeout');
      return false;
    }
    return !this.closed;
  }

  private startAlive(): void {
    const beat = (): void => {
      if (!this.socket?.connected || this.ctx.stopped()) return;
      this.socket.emit('machine-alive', { machineId: this.machineId, time: Date.now() });
    };
    beat();
    this.aliveTimer = setInterval(beat, this.ctx.options.machineAliveMs);
  }

  close(): void {
    this.closed = true;
    if (this.aliveTimer) clearInterval(this.aliveTimer);
    this.aliveTimer = null;
    this.socket?.close();
  }
}
