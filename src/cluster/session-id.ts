// engine.io session ids that name their worker. In a cluster each worker prefixes the sessions it
// creates with its slot (`<slot>.<base64id>`), so the primary routes a long-polling request to the
// worker that holds its session from the request line alone, with no sid → worker table to keep
// in step with the workers. The id stays URL-safe (digits, '.', base64url) and longer than
// engine.io's own 20 characters.
import { randomBytes } from 'node:crypto';

/** Where the hub serves engine.io (Socket.IO's `path`). */
export const ENGINE_IO_PATH = '/socket.io/';

/** engine.io's default id: 15 random bytes as base64url (20 characters). */
export function sessionIdForSlot(slot: number): string {
  return `${slot}.${randomBytes(15).toString('base64url')}`;
}

const SLOT_PREFIX = /^(\d{1,3})\./;

/** The slot a session id names, or null for an id not made by sessionIdForSlot. */
export function slotOfSessionId(sid: string): number | null {
  const match = SLOT_PREFIX.exec(sid);
  return match ? Number(match[1]) : null;
}

/**
 * The `sid` query parameter of an engine.io request target (`/socket.io/?EIO=4&…&sid=…`), or null
 * when the target is not under `ioPath` or has no sid (a handshake, REST, SSE).
 */
export function sessionIdOfTarget(target: string, ioPath: string): string | null {
  if (!target.startsWith(ioPath)) return null;
  const query = target.indexOf('?');
  if (query < 0) return null;
  let at = target.indexOf('sid=', query);
  while (at >= 0) {
    const before = target.charCodeAt(at - 1);
    // '?' or '&': the parameter itself, not the tail of another one (e.g. `xsid=`).
    if (before === 0x3f || before === 0x26) {
      const end = target.indexOf('&', at);
      return target.slice(at + 4, end < 0 ? undefined : end);
    }
    at = target.indexOf('sid=', at + 4);
  }
  return null;
}
