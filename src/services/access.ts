// Lookups shared by every service. Ids are per namespace: an id that exists only in another
// namespace is, for this one, simply not found — the same answer a fresh id gets.
import type { Engine } from '../engine/engine.js';
import type { MachineRow, SessionRow } from '../engine/types.js';

/** The only way a lookup by id fails: there is no cross-namespace "access denied" to reveal. */
export type AccessFailure = 'not-found';
export type Access<T> = { ok: true; row: T } | { ok: false; reason: AccessFailure };

export async function sessionAccess(engine: Engine, namespace: string, id: string): Promise<Access<SessionRow>> {
  const row = await engine.sessions.get(namespace, id);
  return row ? { ok: true, row } : { ok: false, reason: 'not-found' };
}

export async function machineAccess(engine: Engine, namespace: string, id: string): Promise<Access<MachineRow>> {
  const row = await engine.machines.get(namespace, id);
  return row ? { ok: true, row } : { ok: false, reason: 'not-found' };
}

/** A compare-and-swap write of a versioned document (metadata, agentState, runnerState). */
export type VersionedWriteOutcome =
  | { result: 'success' | 'version-mismatch'; version: number; value: unknown }
  | { result: 'error'; reason: AccessFailure };
