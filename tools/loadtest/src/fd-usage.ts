// Open file descriptors of a process and its soft limit, from /proc (Linux): the capacity phase
// stops a level one process cannot hold and says which process and which limit stopped it.
import { readdirSync, readFileSync } from 'node:fs';

export interface FdUsage {
  pid: number;
  open: number;
  limit: number;
}

/** `Max open files` (soft) of a process; null where /proc does not say. */
export function fdLimit(pid: number | 'self'): number | null {
  try {
    const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    if (!match) return null;
    return match[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(match[1]);
  } catch {
    return null;
  }
}

export function openFds(pid: number | 'self'): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

export function fdUsage(pid: number): FdUsage | null {
  const open = openFds(pid);
  const limit = fdLimit(pid);
  return open === null || limit === null ? null : { pid, open, limit };
}

/** Parent pid from /proc/<pid>/stat (the name field may contain spaces or ')'). */
export function parentPid(pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : null;
  } catch {
    return null;
  }
}

/**
 * The processes of a hub's trees that hold its client sockets: every process except Redis and
 * except a parent of another counted process (a cluster primary hands each connection over to a
 * worker and closes its copy).
 */
export function socketHolders(names: ReadonlyMap<number, string>): { pid: number; name: string }[] {
  const parents = new Set<number>();
  for (const pid of names.keys()) {
    const ppid = parentPid(pid);
    if (ppid !== null && names.has(ppid)) parents.add(ppid);
  }
  return [...names]
    .filter(([pid, name]) => !name.startsWith('redis') && !parents.has(pid))
    .map(([pid, name]) => ({ pid, name }));
}
