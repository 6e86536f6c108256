// Socket.IO implementation of the services' CliGateway port. With the Redis adapter, room
// emits reach sockets on every worker, and an RPC goes to the worker its route names.
import type { Namespace } from 'socket.io';
import type { CliGateway, RpcDelivery, RoomTarget } from '../services/ports.js';
import { rpcAnswerProblem } from '../protocol/json-document.js';
import type { UpdateEnvelope } from '../protocol/socket-events.js';
import { RpcBadAnswerError } from '../services/errors.js';
import { directedRpcOf, parseRpcAddress } from './rpc-address.js';
import { roomOf } from './rooms.js';

export function createCliGateway(cli: Namespace): CliGateway {
  return {
    emitUpdate(room: RoomTarget, update: UpdateEnvelope, exceptSocketId?: string): void {
      const name = roomOf(room);
      const target = exceptSocketId ? cli.to(name).except(exceptSocketId) : cli.to(name);
      target.emit('update', update);
    },
    rpcAddress(socketId) {
      return directedRpcOf(cli.adapter)?.rpcAddress(socketId) ?? socketId;
    },
    async requestRpc(address, payload, timeoutMs): Promise<RpcDelivery> {
      const delivery = await deliver(cli, address, payload, timeoutMs);
      if (delivery.kind !== 'answered') return delivery;
      const problem = rpcAnswerProblem(delivery.response);
      if (problem !== null) throw new RpcBadAnswerError(payload.method, problem);
      return delivery;
    },
  };
}

/**
 * A socket of this worker is called directly; one on another worker through that worker's
 * channel; a route without a worker (one process, or written by an older hub) by the adapter's
 * broadcast-with-ack, which reaches the socket wherever it is.
 */
async function deliver(
  cli: Namespace,
  address: string,
  payload: { method: string; params: string },
  timeoutMs: number,
): Promise<RpcDelivery> {
  const { socketId, workerId } = parseRpcAddress(address);
  const local = cli.sockets.get(socketId);
  if (local) {
    try {
      const response: unknown = await local.timeout(timeoutMs).emitWithAck('rpc-request', payload);
      return { kind: 'answered', response };
    } catch {
      return { kind: 'timeout' };
    }
  }
  const directed = directedRpcOf(cli.adapter);
  if (workerId !== undefined && directed) {
    if (workerId === directed.workerId) return { kind: 'no-socket' };
    return directed.requestRpcOn(workerId, socketId, payload, timeoutMs);
  }
  let responses: unknown[];
  try {
    // A socket id is also a room holding exactly that socket, wherever it is connected.
    responses = await cli.to(socketId).timeout(timeoutMs).emitWithAck('rpc-request', payload);
  } catch {
    return { kind: 'timeout' };
  }
  if (responses.length === 0) return { kind: 'no-socket' };
  return { kind: 'answered', response: responses[0] };
}
