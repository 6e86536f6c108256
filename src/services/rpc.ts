// RPC routing: `<sessionId|machineId>:<name>` methods registered by CLI sockets, called by the
// web plane. The route table lives in the engine so any worker can reach any socket; a route
// names the socket and, in a cluster, the worker holding it (CliGateway.rpcAddress).
import type { AccessFailure } from './access.js';
import { machineAccess, sessionAccess } from './access.js';
import type { ServiceDeps } from './deps.js';
import { MachineNotFoundError, RpcTargetMissingError, RpcTimeoutError } from './errors.js';
import { type LimitRefusal, LimitsService, type RpcSlot } from './limits.js';

/** `access-denied`: the method is not under the socket's own session/machine id. */
export type RpcRegisterOutcome =
  | { ok: true }
  | { ok: false; reason: AccessFailure | 'access-denied'; scope: 'session' | 'machine'; id: string };

/** The ids a CLI socket named in its handshake: the only prefixes it may register methods under. */
export interface RpcRegistrant {
  socketId: string;
  sessionId?: string | undefined;
  machineId?: string | undefined;
}

/** An RPC slot's lease outlives the call's timeout by this much (then it lapses by itself). */
const RPC_LEASE_MARGIN_MS = 5_000;

type RpcScope = { scope: 'session' | 'machine'; id: string };

/** True for `<id>:<name>` with a non-empty name. Ids may contain ':' (machine ids are any string). */
function isMethodOf(id: string, method: string): boolean {
  return method.length > id.length + 1 && method.startsWith(`${id}:`);
}

/** Which of the socket's own objects the method belongs to, if any. */
function ownScopeOf(registrant: RpcRegistrant, method: string): RpcScope | null {
  if (registrant.sessionId !== undefined && isMethodOf(registrant.sessionId, method))
    return { scope: 'session', id: registrant.sessionId };
  if (registrant.machineId !== undefined && isMethodOf(registrant.machineId, method))
    return { scope: 'machine', id: registrant.machineId };
  return null;
}

/** How a refused method is named in the `error` event: the socket's kind, the method's prefix. */
function foreignScopeOf(registrant: RpcRegistrant, method: string): RpcScope {
  const cut = method.indexOf(':');
  const scope = registrant.sessionId === undefined && registrant.machineId !== undefined ? 'machine' : 'session';
  return { scope, id: cut > 0 ? method.slice(0, cut) : method };
}

export class RpcService {
  /** Methods registered by sockets of this worker, with their namespace, for cleanup on disconnect. */
  private readonly methodsBySocket = new Map<string, { namespace: string; methods: Set<string> }>();

  constructor(private readonly deps: ServiceDeps) {}

  /**
   * A socket may register `<id>:<name>` only for the session or machine its handshake named, and
   * only while that object exists in the socket's namespace (upstream accepts anything, which
   * lets one tenant capture another's calls). Routes are stored per namespace.
   */
  async register(namespace: string, registrant: RpcRegistrant, method: string): Promise<RpcRegisterOutcome> {
    const own = ownScopeOf(registrant, method);
    if (own === null) return { ok: false, reason: 'access-denied', ...foreignScopeOf(registrant, method) };
    const lookup = own.scope === 'session' ? sessionAccess : machineAccess;
    const found = await lookup(this.deps.engine, namespace, own.id);
    if (!found.ok) return { ok: false, reason: 'not-found', ...own };
    await this.deps.engine.rpcRoutes.set(namespace, method, this.deps.cli.rpcAddress(registrant.socketId));
    let entry = this.methodsBySocket.get(registrant.socketId);
    if (!entry) {
      entry = { namespace, methods: new Set() };
      this.methodsBySocket.set(registrant.socketId, entry);
    }
    entry.methods.add(method);
    return { ok: true };
  }

  /** Removes the route only if this socket holds it: a foreign method is left alone. */
  async unregister(namespace: string, socketId: string, method: string): Promise<void> {
    this.methodsBySocket.get(socketId)?.methods.delete(method);
    await this.deps.engine.rpcRoutes.delete(namespace, method, this.deps.cli.rpcAddress(socketId));
  }

  async unregisterAll(socketId: string): Promise<void> {
    const entry = this.methodsBySocket.get(socketId);
    this.methodsBySocket.delete(socketId);
    if (!entry) return;
    const address = this.deps.cli.rpcAddress(socketId);
    await Promise.all(
      [...entry.methods].map((method) => this.deps.engine.rpcRoutes.delete(entry.namespace, method, address)),
    );
  }

  /**
   * Calls `<scopeId>:<name>` and returns the CLI's answer (parsed when it is a JSON string).
   * Throws RpcTargetMissingError / RpcTimeoutError for transport failures; a CLI-side failure
   * comes back as a value with an `error` key, for the caller to interpret. With
   * `requireMachine`, a `scopeId` that is no machine of the namespace throws MachineNotFoundError
   * first (the route's 404), as a guard run before the call would.
   *
   * The slot, the route and the machine are read in one event-loop turn, so on Redis they share
   * one write and one round trip; the slot is given back after the answer without holding it.
   */
  async call(
    namespace: string,
    scopeId: string,
    name: string,
    params: unknown,
    timeoutMs = this.deps.timings.rpcTimeoutMs,
    opts: { requireMachine?: boolean } = {},
  ): Promise<unknown> {
    const method = `${scopeId}:${name}`;
    const { engine, limits } = this.deps;
    const slotRequest = limits.acquireRpcSlot(namespace, timeoutMs + RPC_LEASE_MARGIN_MS);
    let slot: RpcSlot | LimitRefusal;
    let address: string | null;
    let machineFound: boolean;
    try {
      [slot, address, machineFound] = await Promise.all([
        slotRequest,
        engine.rpcRoutes.get(namespace, method),
        opts.requireMachine === true ? engine.machines.exists(namespace, scopeId) : true,
      ]);
    } catch (error) {
      void slotRequest.then(
        (held) => (held.ok ? this.release(held) : undefined),
        () => undefined,
      );
      throw error;
    }
    // The order of a guard, then the slot, then the route read: 404, then 429, then 503.
    if (!machineFound || !address) {
      if (slot.ok) this.release(slot);
      if (!machineFound) throw new MachineNotFoundError();
    }
    LimitsService.orThrow(slot);
    if (!address) throw new RpcTargetMissingError('handler-not-registered', method);
    try {
      return await this.deliver(method, address, params, timeoutMs);
    } finally {
      if (slot.ok) this.release(slot);
    }
  }

  /** Gives a slot back without making the caller wait; a failure only leaves it to lapse. */
  private release(slot: RpcSlot): void {
    slot.release().catch((error: unknown) => {
      this.deps.log.warn({ err: error }, 'rpc: slot release failed; it lapses with its lease');
    });
  }

  private async deliver(method: string, address: string, params: unknown, timeoutMs: number): Promise<unknown> {
    const delivery = await this.deps.cli.requestRpc(
      address,
      { method, params: JSON.stringify(params ?? null) },
      timeoutMs,
    );
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
