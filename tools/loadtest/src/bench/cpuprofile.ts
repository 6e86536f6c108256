// Where a hub's CPU time went: reads V8 `.cpuprofile` files (node --cpu-prof) and aggregates
// self time by function and by module (node internals, each node_modules package, each src/
// directory), plus inclusive time of our own (src/) functions.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const CpuProfileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
      hitCount: z.number().optional(),
      children: z.array(z.number()).optional(),
    }),
  ),
  startTime: z.number(),
  endTime: z.number(),
  samples: z.array(z.number()).optional(),
  timeDeltas: z.array(z.number()).optional(),
});
type CpuProfile = z.infer<typeof CpuProfileSchema>;

export interface ProfileSummary {
  files: number;
  totalMs: number;
  /** Everything but (idle): what the process actually spent CPU on (approximately). */
  busyMs: number;
  byFunction: { name: string; selfMs: number; pct: number }[];
  byModule: { module: string; selfMs: number; pct: number }[];
  /** Our own functions by inclusive time (self + callees). */
  ownInclusive: { name: string; totalMs: number; pct: number }[];
}

function moduleOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0] ?? ''}`;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? '?');
  }
  const own = ownPath(url);
  if (own !== null) {
    const parts = own.split('/');
    return parts.length > 2 ? `${parts[0]}/${parts[1]}` : own;
  }
  return url.split('/').slice(-2).join('/');
}

/** `src/…` for our own code, whether run from src/ (tsx) or from a build (dist/, bench-dist/). */
function ownPath(url: string): string | null {
  if (url.includes('/node_modules/')) return null;
  for (const marker of ['/src/', '/bench-dist/', '/dist/']) {
    const at = url.lastIndexOf(marker);
    if (at !== -1) return `src/${url.slice(at + marker.length)}`;
  }
  return null;
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) return url.slice(nm + '/node_modules/'.length);
  return ownPath(url) ?? url.replace(/^file:\/\//, '');
}

function keyOf(frame: CpuProfile['nodes'][number]['callFrame']): string {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  return frame.url === '' ? name : `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

/**
 * A time window in µs of the monotonic clock (V8 profile timestamps and process.hrtime share
 * CLOCK_MONOTONIC on Linux), so a profile can be cut to the load test and leave start-up out.
 */
export interface ProfileWindow {
  fromUs: number;
  toUs: number;
}

/** Self time (ms) per node id, from samples/timeDeltas (exact) or hitCount (fallback). */
function selfTimes(profile: CpuProfile, window: ProfileWindow | undefined): Map<number, number> {
  const self = new Map<number, number>();
  if (profile.samples && profile.timeDeltas && profile.samples.length === profile.timeDeltas.length) {
    // timeDeltas[i] is the time before sample i; attribute it to the previous sample's node.
    let at = profile.startTime + (profile.timeDeltas[0] ?? 0);
    for (let i = 1; i < profile.samples.length; i += 1) {
      const delta = profile.timeDeltas[i] as number;
      const from = at;
      at += delta;
      if (window && (from < window.fromUs || from > window.toUs)) continue;
      const id = profile.samples[i - 1] as number;
      self.set(id, (self.get(id) ?? 0) + delta / 1000);
    }
    return self;
  }
  const hits = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const per = hits > 0 ? (profile.endTime - profile.startTime) / 1000 / hits : 0;
  for (const node of profile.nodes) self.set(node.id, (node.hitCount ?? 0) * per);
  return self;
}

export function profileFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 4) return;
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path, depth + 1);
      else if (entry.endsWith('.cpuprofile')) out.push(path);
    }
  };
  walk(dir, 0);
  return out.sort();
}

export function summariseProfiles(files: readonly string[], top = 20, window?: ProfileWindow): ProfileSummary {
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (const file of files) {
    const profile = CpuProfileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    const self = selfTimes(profile, window);
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    for (const node of profile.nodes) {
      const ms = self.get(node.id) ?? 0;
      totalMs += ms;
      if (node.callFrame.functionName === '(idle)') {
        idleMs += ms;
        continue;
      }
      const key = keyOf(node.callFrame);
      byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
      const mod = moduleOf(node.callFrame.url, node.callFrame.functionName);
      byModule.set(mod, (byModule.get(mod) ?? 0) + ms);
    }
    // Inclusive time of src/ functions: a node's subtree time, counted once per distinct
    // function on the path (recursion is not double-counted).
    const subtree = new Map<number, number>();
    const total = (id: number, depth: number): number => {
      const cached = subtree.get(id);
      if (cached !== undefined) return cached;
      const node = nodes.get(id);
      let sum = self.get(id) ?? 0;
      if (node && depth < 2_000) for (const child of node.children ?? []) sum += total(child, depth + 1);
      subtree.set(id, sum);
      return sum;
    };
    const root = profile.nodes[0];
    if (root) total(root.id, 0);
    const visit = (id: number, onPath: Set<string>, depth: number): void => {
      const node = nodes.get(id);
      if (!node || depth > 2_000) return;
      const key = keyOf(node.callFrame);
      const own = ownPath(node.callFrame.url) !== null;
      const added = own && !onPath.has(key);
      if (added) {
        inclusive.set(key, (inclusive.get(key) ?? 0) + (subtree.get(id) ?? 0));
        onPath.add(key);
      }
      for (const child of node.children ?? []) visit(child, onPath, depth + 1);
      if (added) onPath.delete(key);
    };
    if (root) visit(root.id, new Set(), 0);
  }
  const busyMs = Math.max(0, totalMs - idleMs);
  const rank = (m: Map<string, number>): [string, number][] =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const pct = (ms: number): number => (busyMs > 0 ? Math.round((ms / busyMs) * 1000) / 10 : 0);
  return {
    files: files.length,
    totalMs: Math.round(totalMs),
    busyMs: Math.round(busyMs),
    byFunction: rank(byFunction).map(([name, ms]) => ({ name, selfMs: Math.round(ms), pct: pct(ms) })),
    byModule: rank(byModule).map(([module, ms]) => ({ module, selfMs: Math.round(ms), pct: pct(ms) })),
    ownInclusive: rank(inclusive).map(([name, ms]) => ({ name, totalMs: Math.round(ms), pct: pct(ms) })),
  };
}

export function formatProfileSummary(title: string, s: ProfileSummary): string {
  const lines = [
    `${title}: ${s.files} profile(s), busy ${(s.busyMs / 1000).toFixed(1)} s of ${(s.totalMs / 1000).toFixed(1)} s sampled`,
  ];
  lines.push('  self time by module:');
  for (const m of s.byModule.slice(0, 12))
    lines.push(`    ${m.pct.toFixed(1).padStart(5)}%  ${String(m.selfMs).padStart(7)} ms  ${m.module}`);
  lines.push('  self time by function:');
  for (const f of s.byFunction)
    lines.push(`    ${f.pct.toFixed(1).padStart(5)}%  ${String(f.selfMs).padStart(7)} ms  ${f.name}`);
  lines.push('  our functions, inclusive:');
  for (const f of s.ownInclusive.slice(0, 15))
    lines.push(`    ${f.pct.toFixed(1).padStart(5)}%  ${String(f.totalMs).padStart(7)} ms  ${f.name}`);
  return lines.join('\n');
}
