// Socket.IO implementation of the services' CliGateway port. With the Redis adapter, room
// emits and the targeted ack request reach sockets on every worker.
import type { Namespace } from 'socket.io';
import type { CliGateway, RpcDelivery, RoomTarget } from '../services/ports.js';
import { rpcAnswerProblem } from '../protocol/json-document.js';
import type { UpdateEnvelope } from '../protocol/socket-events.js';
import { RpcBadAnswerError } from '../services/errors.js';
import { roomOf } from './rooms.js';

export function createCliGateway(cli: Namespace): CliGateway {
  return {
    emitUpdate(room: RoomTarget, update: UpdateEnvelope, exceptSocketId?: string): void {
      const name = roomOf(room);
      const target = exceptSocketId ? cli.to(name).except(exceptSocketId) : cli.to(name);
      target.emit('update', update);
    },
    async requestRpc(socketId, payload, timeoutMs): Promise<RpcDelivery> {
      let responses: unknown[];
      try {
        // A socket id is also a room holding exactly that socket, wherever it is connected.
        responses = await cli.to(socketId).timeout(timeoutMs).emitWithAck('rpc-request', payload);
      } catch {
        return { kind: 'timeout' };
      }
      if (responses.length === 0) return { kind: 'no-socket' };
      const problem = rpcAnswerProblem(responses[0]);
      if (problem !== null) throw new RpcBadAnswerError(payload.method, problem);
      return { kind: 'answered', response: responses[0] };
    },
  };
}
