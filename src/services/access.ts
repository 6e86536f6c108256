// Namespace checks shared by every service: an object of another namespace is "access-denied",
// never data.
import type { Engine, MachineRow, SessionRow } from '../engine/types.js';

export type AccessFailure = 'not-found' | 'access-denied';
export type Access<T> = { ok: true; row: T } | { ok: false; reason: AccessFailure };

export async function sessionAccess(engine: Engine, namespace: string, id: string): Promise<Access<SessionRow>> {
  const row = await engine.getSession(id);
  if (!row) return { ok: false, reason: 'not-found' };
  if (row.namespace !== namespace) return { ok: false, reason: 'access-denied' };
  return { ok: true, row };
}

export async function machineAccess(engine: Engine, namespace: string, id: string): Promise<Access<MachineRow>> {
  const row = await engine.getMachine(id);
  if (!row) return { ok: false, reason: 'not-found' };
  if (row.namespace !== namespace) return { ok: false, reason: 'access-denied' };
  return { ok: true, row };
}
