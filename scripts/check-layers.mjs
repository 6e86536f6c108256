#!/usr/bin/env node
// The hub's import graph, checked: every relative import in src/ must go in an allowed direction
// between layers (folders), and no two files may import each other, directly or in a loop.
//   node scripts/check-layers.mjs          check; exit 1 with the offending imports
//   node scripts/check-layers.mjs --graph  also print the folder graph (edges with counts)
// Type-only imports count too: a layer that needs another's types depends on it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

/**
 * Layer → the layers it may import. Transports (cli-plane, web-plane, ops) sit on domain
 * services; services on the engine; everything may use protocol (wire schemas) and config.
 * `hub` composes the process; `main` is the command line.
 */
const ALLOWED = {
  main: ['hub', 'admin', 'config', 'ops'],
  admin: ['services', 'engine', 'protocol', 'config'],
  hub: ['cluster', 'cli-plane', 'web-plane', 'ops', 'http', 'services', 'engine', 'config', 'protocol'],
  cluster: ['ops', 'redis', 'config'],
  'cli-plane': ['http', 'services', 'ops', 'protocol', 'config'],
  'web-plane': ['http', 'services', 'ops', 'protocol', 'config'],
  ops: ['http', 'services', 'protocol', 'config'],
  // http maps the services' error vocabulary (services/errors.ts) to statuses.
  http: ['services', 'protocol', 'ops'],
  services: ['engine', 'protocol', 'config', 'ops'],
  engine: ['redis', 'protocol', 'config'],
  redis: ['config'],
  protocol: [],
  config: [],
};

function layerOf(file) {
  const rel = relative(src, file).split('/');
  if (rel.length === 1) return rel[0].replace(/\.ts$/, '').replace('ns-admin', 'admin');
  return rel[0];
}

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*['"](\.[^'"]+)['"]|(?:^|\n)\s*import\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  const found = [];
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1] ?? match[2] ?? match[3];
    const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
    if (existsSync(target)) found.push(target);
  }
  return found;
}

const files = walk(src);
const edges = new Map(files.map((file) => [file, importsOf(file)]));
const problems = [];

const layerEdges = new Map();
for (const [file, targets] of edges) {
  const from = layerOf(file);
  if (!(from in ALLOWED)) problems.push(`${relative(root, file)}: layer '${from}' is not in the layer table`);
  for (const target of targets) {
    const to = layerOf(target);
    if (from === to) continue;
    const key = `${from} → ${to}`;
    layerEdges.set(key, (layerEdges.get(key) ?? 0) + 1);
    if (!(ALLOWED[from] ?? []).includes(to))
      problems.push(`${relative(root, file)} imports ${relative(root, target)} (${key} is not an allowed direction)`);
  }
}

// File-level cycles: Tarjan's strongly connected components.
let index = 0;
const stack = [];
const state = new Map();
function connect(file) {
  const entry = { index, low: index, onStack: true };
  state.set(file, entry);
  index += 1;
  stack.push(file);
  for (const next of edges.get(file) ?? []) {
    const seen = state.get(next);
    if (!seen) {
      connect(next);
      entry.low = Math.min(entry.low, state.get(next).low);
    } else if (seen.onStack) entry.low = Math.min(entry.low, seen.index);
  }
  if (entry.low !== entry.index) return;
  const component = [];
  for (;;) {
    const member = stack.pop();
    state.get(member).onStack = false;
    component.push(member);
    if (member === file) break;
  }
  if (component.length > 1) problems.push(`import cycle: ${component.map((f) => relative(root, f)).join(' ↔ ')}`);
}
for (const file of files) if (!state.has(file)) connect(file);

// Layer-level cycles (two folders importing each other through any files).
const layers = [...new Set(files.map(layerOf))];
for (const a of layers)
  for (const b of layers) {
    if (a < b && layerEdges.has(`${a} → ${b}`) && layerEdges.has(`${b} → ${a}`))
      problems.push(`layer cycle: ${a} ↔ ${b}`);
  }

if (process.argv.includes('--graph')) {
  console.log(`${files.length} files, ${layers.length} layers`);
  for (const [key, count] of [...layerEdges].sort()) console.log(`  ${key} (${count})`);
}
if (problems.length > 0) {
  console.error(`layer check: ${problems.length} problem(s)`);
  for (const problem of problems) console.error(`  ${problem}`);
  process.exit(1);
}
console.log(`layer check: ${files.length} files, no cycles, every import in an allowed direction`);
