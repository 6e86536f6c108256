// RPC routing: `<sessionId|machineId>:<name>` methods registered by CLI sockets, called by the
// web plane. The route table lives in the engine so any worker can reach any socket.
import type { AccessFailure } from './access.js';
import { machineAccess, sessionAccess } from './access.js';
import type { ServiceDeps } from './deps.js';

export class RpcTargetMissingError extends Error {
  readonly code = 'rpc_target_missing';
  constructor(
    readonly reason: 'handler-not-registered' | 'socket-disconnected',
    method: string,
  ) {
    super(reason === 'handler-not-registered' ? `RPC handler not registered: ${method}` : `RPC socket disconnected: ${method}`);
    this.name = 'RpcTargetMissingError';
  }
}

export class RpcTimeoutError extends Error {
  readonly code = 'rpc_timeout';
  constructor(method: string, timeoutMs: number) {
    super(`RPC timed out after ${timeoutMs} ms: ${method}`);
    this.name = 'RpcTimeoutError';
  }
}

export type RpcRegisterOutcome = { ok: true } | { ok: false; reason: AccessFailure; scope: 'session' | 'machine'; id: string };

function scopeIdOf(method: string): string {
  const cut = method.indexOf(':');
  return cut <= 0 ? '' : method.slice(0, cut);
}

export class RpcService {
  /** Methods registered by sockets of this worker, for cleanup on disconnect. */
  private readonly methodsBySocket = new Map<string, Set<string>>();

  constructor(private readonly deps: ServiceDeps) {}

  /**
   * Only `<id>:<name>` where id is a session or machine of the caller's namespace is accepted
   * (upstream accepts anything, which lets one tenant hijack another's handlers).
   */
  async register(namespace: string, socketId: string, method: string): Promise<RpcRegisterOutcome> {
    const id = scopeIdOf(method);
    if (id === '') return { ok: false, reason: 'not-found', scope: 'session', id: method };
    const session = await sessionAccess(this.deps.engine, namespace, id);
    if (!session.ok) {
      const machine = await machineAccess(this.deps.engine, namespace, id);
      if (!machine.ok) {
        const denied = session.reason === 'access-denied' ? 'session' : machine.reason === 'access-denied' ? 'machine' : null;
        return { ok: false, reason: denied ? 'access-denied' : 'not-found', scope: denied ?? 'session', id };
      }
    }
    await this.deps.engine.setRpcRoute(method, socketId);
    let methods = this.methodsBySocket.get(socketId);
    if (!methods) this.methodsBySocket.set(socketId, (methods = new Set()));
    methods.add(method);
    return { ok: true };
  }

  async unregister(socketId: string, method: string): Promise<void> {
    this.methodsBySocket.get(socketId)?.delete(method);
    await this.deps.engine.deleteRpcRoute(method, socketId);
  }

  async unregisterAll(socketId: string): Promise<void> {
    const methods = this.methodsBySocket.get(socketId);
    this.methodsBySocket.delete(socketId);
    if (!methods) return;
    await Promise.all([...methods].map((method) => this.deps.engine.deleteRpcRoute(method, socketId)));
  }

  /**
   * Calls `<scopeId>:<name>` and returns the CLI's answer (parsed when it is a JSON string).
   * Throws RpcTargetMissingError / RpcTimeoutError for transport failures; a CLI-side failure
   * comes back as a value with an `error` key, for the caller to interpret.
   */
  async call(scopeId: string, name: string, params: unknown, timeoutMs = this.deps.timings.rpcTimeoutMs): Promise<unknown> {
    const method = `${scopeId}:${name}`;
    const socketId = await this.deps.engine.getRpcRoute(method);
    if (!socketId) throw new RpcTargetMissingError('handler-not-registered', method);
    const delivery = await this.deps.cli.requestRpc(socketId, { method, params: JSON.stringify(params ?? null) }, timeoutMs);
    if (delivery.kind === 'no-socket') throw new RpcTargetMissingError('socket-disconnected', method);
    if (delivery.kind === 'timeout') throw new RpcTimeoutError(method, timeoutMs);
    const response = delivery.response;
    if (typeof response !== 'string') return response;
    try {
      return JSON.parse(response) as unknown;
    } catch {
      return response;
    }
  }
}
