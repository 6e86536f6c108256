// CPU time and RSS of hub processes on this machine, from /proc (Linux). A given pid counts with
// all its descendants (cluster workers, a Bun hub's helpers), so `--hub-pids <primary>` covers a
// whole multi-worker hub. Exited processes simply drop out of the sum.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcSample {
  /** performance.now() when taken. */
  at: number;
  /** utime + stime of every process in the trees, in ms. */
  cpuMs: number;
  rssBytes: number;
  /** Per root pid (its tree summed). */
  roots: { pid: number; name: string; cpuMs: number; rssBytes: number; processes: number }[];
  /** Every process counted, by pid (to notice one exiting: a crashed worker, a Redis fork). */
  names: Map<number, string>;
}

let ticksPerSecond: number | null = null;

function clockTicks(): number {
  if (ticksPerSecond !== null) return ticksPerSecond;
  const res = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2_000 });
  const value = Number(res.stdout?.trim());
  ticksPerSecond = Number.isInteger(value) && value > 0 ? value : 100;
  return ticksPerSecond;
}

interface StatLine {
  pid: number;
  ppid: number;
  name: string;
  cpuTicks: number;
}

/** /proc/<pid>/stat: the name is in parentheses and may itself contain spaces or ')'. */
function readStat(pid: number): StatLine | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open === -1 || close === -1) return null;
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  const ppid = Number(fields[1]);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(ppid) || !Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return { pid, ppid, name: text.slice(open + 1, close), cpuTicks: utime + stime };
}

function readRssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function procAvailable(): boolean {
  try {
    readFileSync('/proc/self/stat', 'utf8');
    return true;
  } catch {
    return false;
  }
}

/** Every live pid's parent (one pass over /proc). */
function parentMap(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return children;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    const list = children.get(stat.ppid);
    if (list) list.push(stat.pid);
    else children.set(stat.ppid, [stat.pid]);
  }
  return children;
}

/** Samples the trees rooted at `pids`. Bounded: at most 10 000 processes are visited. */
export function sampleProcesses(pids: readonly number[], at: number): ProcSample {
  const ticks = clockTicks();
  const children = pids.length > 0 ? parentMap() : new Map<number, number[]>();
  const seen = new Set<number>();
  const names = new Map<number, string>();
  const roots: ProcSample['roots'] = [];
  for (const root of pids) {
    const rootStat = readStat(root);
    const entry = { pid: root, name: rootStat?.name ?? '(gone)', cpuMs: 0, rssBytes: 0, processes: 0 };
    const stack = [root];
    while (stack.length > 0 && seen.size < 10_000) {
      const pid = stack.pop() as number;
      if (seen.has(pid)) continue;
      seen.add(pid);
      const stat = pid === root ? rootStat : readStat(pid);
      if (!stat) continue;
      names.set(pid, stat.name);
      entry.cpuMs += (stat.cpuTicks * 1000) / ticks;
      entry.rssBytes += readRssBytes(pid);
      entry.processes += 1;
      // This process's own children are the generator's (idle-phase children), never the hub's:
      // they only meet the hub's tree when the hub runs in this process (the loadtest's tests).
      if (pid === process.pid) continue;
      for (const child of children.get(pid) ?? []) stack.push(child);
    }
    roots.push(entry);
  }
  return {
    at,
    cpuMs: roots.reduce((sum, r) => sum + r.cpuMs, 0),
    rssBytes: roots.reduce((sum, r) => sum + r.rssBytes, 0),
    roots,
    names,
  };
}

/** CPU% (of one core) between two samples. */
export function cpuPercent(from: ProcSample, to: ProcSample): number {
  const wall = to.at - from.at;
  // A process that exited takes its CPU time out of the sum: never report a negative share.
  return wall > 0 ? Math.max(0, ((to.cpuMs - from.cpuMs) / wall) * 100) : 0;
}
