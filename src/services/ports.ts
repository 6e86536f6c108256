// What services need from the CLI transport, expressed without Socket.IO types so the
// dependency points from transport to service, never back.
import type { UpdateBody } from '../protocol/socket-events.js';

/** A session's or machine's room. Ids are per namespace, so a room is named by both. */
export interface RoomTarget {
  kind: 'session' | 'machine';
  namespace: string;
  id: string;
}

export type RpcDelivery = { kind: 'answered'; response: unknown } | { kind: 'no-socket' } | { kind: 'timeout' };

export interface CliGateway {
  /** Emits `update {id, seq, createdAt, body}` to a room on every worker, optionally excluding one socket. */
  emitUpdate(
    room: RoomTarget,
    update: { id: string; seq: number; createdAt: number; body: UpdateBody },
    exceptSocketId?: string,
  ): void;
  /**
   * The RPC route value for a socket of this worker: where a call must go to reach it (the
   * socket id, plus the worker's id in a cluster). Opaque to services.
   */
  rpcAddress(socketId: string): string;
  /**
   * Sends `rpc-request` to the socket at `address` (an rpcAddress) and waits for its ack. Throws
   * RpcBadAnswerError when the answer is not a JSON value within the document limits.
   */
  requestRpc(address: string, payload: { method: string; params: string }, timeoutMs: number): Promise<RpcDelivery>;
}
