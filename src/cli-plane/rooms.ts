// Socket.IO room names of the /cli namespace. Ids are per namespace, so a room name carries the
// namespace as well: two tenants' sessions with the same id never share a room.
import type { RoomTarget } from '../services/ports.js';

export function roomName(kind: RoomTarget['kind'], namespace: string, id: string): string {
  return `${kind}:${namespace}:${id}`;
}

export function roomOf(target: RoomTarget): string {
  return roomName(target.kind, target.namespace, target.id);
}
