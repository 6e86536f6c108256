// The bench targets, each started fresh on free loopback ports for every profile:
//   upstream — the real HAPI hub (`@twsxtd/hapi-linux-x64`, Bun + SQLite), installed at bench
//              time into .cache/ (never committed), with its own temp HAPI_HOME, push off, no relay
//              tunnel, and proxies pointed at a closed loopback port so nothing leaves the machine;
//   memory   — ours, memory engine, one process;
//   sqlite   — ours, sqlite engine (WAL, synchronous=FULL unless HAPI_SQLITE_SYNC says) in a temp HAPI_DATA_DIR, one process;
//   redis    — ours, Redis engine (a spawned redis-server, AOF everysec), one process;
//   redis2   — ours, Redis engine, HAPI_WORKERS=2 (cluster primary + 2 workers).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { HUB_NODE_FLAGS } from '../../../../src/config/node-flags.js';
import type { TargetName } from './options.js';
import { freePort, httpOk, redisPing, spawnChild, waitUntil, type Child } from './processes.js';

/** Tenant limits far above anything the bench can send (rates, pending events, stored bytes). */
export const LIFTED_TENANT_LIMITS: Record<string, string> = {
  HAPI_LIMIT_CONNECTIONS: '1000000',
  HAPI_LIMIT_SOCKET_EVENTS_PER_SEC: '100000000',
  HAPI_LIMIT_SOCKET_BYTES_PER_SEC: '1000000000000',
  HAPI_LIMIT_NAMESPACE_EVENTS_PER_SEC: '100000000',
  HAPI_LIMIT_NAMESPACE_BYTES_PER_SEC: '1000000000000',
  HAPI_LIMIT_HISTORY_BYTES: '1000000000000000',
  HAPI_LIMIT_CONCURRENT_RPCS: '1000000',
  HAPI_LIMIT_PENDING_EVENTS: '100000000',
};

export const UPSTREAM_PACKAGE = '@twsxtd/hapi-linux-x64';
export const UPSTREAM_VERSION = '0.30.7';

export interface RunningTarget {
  url: string;
  token: string;
  /** Roots of the process trees whose CPU/RSS count as "the hub" (incl. redis-server). */
  pids: number[];
  /** The target's Redis, when it has one (the capacity profile reports its memory per session). */
  redisUrl?: string;
  /** Our hubs' internal metrics listener (HAPI_METRICS_PORT): `…/metrics`. */
  metricsUrl?: string;
  stop(): Promise<void>;
}

/**
 * How our hub is started: from a build of the current sources into .cache/bench-dist (what
 * production runs: `node dist/main.js`, no TypeScript loader in the process, and CPU profiles
 * with real line numbers), or through tsx when the build is impossible.
 */
export interface OursEntry {
  runtime: 'dist' | 'tsx';
  args: string[];
  note: string | null;
}

export function prepareOurs(repoRoot: string, log: (line: string) => void): OursEntry {
  const tsxEntry: OursEntry = {
    runtime: 'tsx',
    // Ours runs with the flags every launcher gives it (package.json, Dockerfile).
    args: [...HUB_NODE_FLAGS, '--import', 'tsx', join(repoRoot, 'src', 'main.ts')],
    note: null,
  };
  const outDir = join(repoRoot, '.cache', 'bench-dist');
  let tsc: string;
  try {
    tsc = createRequire(join(repoRoot, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    return { ...tsxEntry, note: 'typescript not installed; ran through tsx' };
  }
  log('building the hub into .cache/bench-dist …');
  rmSync(outDir, { recursive: true, force: true });
  // tsc still emits on type errors (another helper's work in progress must not stop the bench).
  const built = spawnSync(process.execPath, [tsc, '-p', join(repoRoot, 'tsconfig.build.json'), '--outDir', outDir], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 10 * 60_000,
  });
  const assets = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'copy-build-assets.mjs'), outDir], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (!existsSync(join(outDir, 'main.js')) || assets.status !== 0) {
    return { ...tsxEntry, note: `build failed (${(built.stdout ?? '').split('\n')[0] ?? ''}); ran through tsx` };
  }
  return {
    runtime: 'dist',
    args: [...HUB_NODE_FLAGS, join(outDir, 'main.js')],
    note: built.status === 0 ? null : `built with type errors: ${(built.stdout ?? '').split('\n')[0] ?? ''}`,
  };
}

export interface TargetContext {
  ours: OursEntry;
  repoRoot: string;
  /** Scratch dir of this bench run (logs, HAPI_HOMEs, redis data). */
  workDir: string;
  /** The environment children inherit (PATH etc.); passed in so only entry points read process.env. */
  baseEnv: NodeJS.ProcessEnv;
  /** When set, our hubs run under `node --cpu-prof` writing into this dir. */
  cpuProfDir?: string;
  log(line: string): void;
}

export const TARGET_LABELS: Record<TargetName, string> = {
  upstream: `upstream ${UPSTREAM_VERSION} (Bun+SQLite)`,
  memory: 'ours memory ×1',
  sqlite: 'ours sqlite ×1',
  redis: 'ours Redis ×1',
  redis2: 'ours Redis ×2 workers',
};

/** Never lets a child reach beyond loopback through a proxy it might honour. */
export const NO_NETWORK_ENV = {
  HTTP_PROXY: 'http://127.0.0.1:9',
  HTTPS_PROXY: 'http://127.0.0.1:9',
  http_proxy: 'http://127.0.0.1:9',
  https_proxy: 'http://127.0.0.1:9',
  NO_PROXY: '127.0.0.1,localhost',
  no_proxy: '127.0.0.1,localhost',
};

// upstream ----------------------------------------------------------------------------------

function upstreamBinIn(prefix: string): string {
  return join(prefix, 'node_modules', ...UPSTREAM_PACKAGE.split('/'), 'bin', 'hapi');
}

function upstreamVersionOk(bin: string): boolean {
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    return false;
  }
  const home = mkdtempSync(join(tmpdir(), 'hapi-version-'));
  try {
    const res = spawnSync(bin, ['--version'], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { PATH: '/usr/bin:/bin', HOME: home, HAPI_HOME: home, ...NO_NETWORK_ENV },
    });
    return res.status === 0 && res.stdout.includes(UPSTREAM_VERSION);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * The upstream binary: `.cache/hapi-cli` (shared with the interop tests), installed there with
 * npm when missing (into a staging prefix renamed into place). Null + reason when impossible.
 */
export function ensureUpstream(
  repoRoot: string,
  log: (line: string) => void,
): { bin: string } | { bin: null; reason: string } {
  const cacheDir = join(repoRoot, '.cache', 'hapi-cli');
  const cached = upstreamBinIn(cacheDir);
  if (upstreamVersionOk(cached)) return { bin: cached };
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return { bin: null, reason: `${UPSTREAM_PACKAGE} only runs on linux-x64` };
  log(`installing ${UPSTREAM_PACKAGE}@${UPSTREAM_VERSION} into .cache/hapi-cli …`);
  mkdirSync(dirname(cacheDir), { recursive: true });
  const staging = `${cacheDir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const res = spawnSync(
    'npm',
    [
      'install',
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--prefix',
      staging,
      `${UPSTREAM_PACKAGE}@${UPSTREAM_VERSION}`,
    ],
    {
      encoding: 'utf8',
      timeout: 10 * 60_000,
      cwd: dirname(cacheDir),
    },
  );
  if (res.status !== 0 || !upstreamVersionOk(upstreamBinIn(staging))) {
    rmSync(staging, { recursive: true, force: true });
    if (upstreamVersionOk(cached)) return { bin: cached };
    return {
      bin: null,
      reason: `npm install ${UPSTREAM_PACKAGE}@${UPSTREAM_VERSION} failed: ${(res.stderr ?? '').trim().split('\n').slice(-2).join(' | ') || `exit ${res.status}`}`,
    };
  }
  rmSync(cacheDir, { recursive: true, force: true });
  renameSync(staging, cacheDir);
  return upstreamVersionOk(cached)
    ? { bin: cached }
    : { bin: null, reason: `installed ${UPSTREAM_PACKAGE} but it does not run` };
}

/** Environment of an upstream `hapi hub` on loopback with a throw-away home and nothing external. */
export function upstreamHubEnv(home: string, port: number, token: string): Record<string, string> {
  return {
    PATH: '/usr/bin:/bin',
    HOME: home,
    HAPI_HOME: home,
    CLI_API_TOKEN: token,
    HAPI_LISTEN_HOST: '127.0.0.1',
    HAPI_LISTEN_PORT: String(port),
    // No push relay, no Telegram/ServerChan (unset), no tunnel (`--relay` not given).
    HAPI_IOS_PUSH: 'off',
    HAPI_ANDROID_PUSH: 'off',
    HAPI_PUSH_RELAY_URL: 'http://127.0.0.1:9',
    LANG: 'C.UTF-8',
    ...NO_NETWORK_ENV,
  };
}

async function startUpstream(ctx: TargetContext, bin: string, tag: string): Promise<RunningTarget> {
  const home = mkdtempSync(join(ctx.workDir, `upstream-${tag}-`));
  const port = await freePort();
  const token = randomBytes(24).toString('base64url');
  const child = spawnChild(bin, ['hub'], {
    cwd: home,
    logFile: join(home, 'hub.log'),
    env: upstreamHubEnv(home, port, token),
  });
  const url = `http://127.0.0.1:${port}`;
  if (!(await waitUntil(() => httpOk(`${url}/health`), child, 60_000))) {
    const tail = child.tail();
    await child.stop();
    throw new Error(`upstream hub did not become healthy:\n${tail}`);
  }
  return { url, token, pids: [child.pid], stop: () => child.stop() };
}

// ours --------------------------------------------------------------------------------------

async function startRedis(ctx: TargetContext, tag: string): Promise<{ url: string; child: Child }> {
  const dir = mkdtempSync(join(ctx.workDir, `redis-${tag}-`));
  const port = await freePort();
  const child = spawnChild(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
    ],
    {
      cwd: dir,
      logFile: join(dir, 'redis.log'),
      env: { PATH: ctx.baseEnv.PATH ?? '/usr/bin:/bin' },
    },
  );
  if (!(await waitUntil(() => redisPing(port), child, 15_000))) {
    const tail = child.tail();
    await child.stop();
    throw new Error(`redis-server did not start:\n${tail}`);
  }
  return { url: `redis://127.0.0.1:${port}`, child };
}

async function startOurs(
  ctx: TargetContext,
  name: Exclude<TargetName, 'upstream'>,
  tag: string,
): Promise<RunningTarget> {
  const redis = name === 'memory' || name === 'sqlite' ? null : await startRedis(ctx, tag);
  const port = await freePort();
  const metricsPort = await freePort();
  const token = randomBytes(24).toString('base64url');
  const home = mkdtempSync(join(ctx.workDir, `${name}-${tag}-`));
  const profDir = ctx.cpuProfDir ? join(ctx.cpuProfDir, `${name}-${tag}`) : null;
  if (profDir) mkdirSync(profDir, { recursive: true });
  // BENCH_HUB_NODE_ARGS: extra Node/V8 flags for our hubs only (e.g. `--trace-gc`, or `--inspect`
  // to sample allocations), so an experiment does not change the load generator.
  const extraArgs = (ctx.baseEnv.BENCH_HUB_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const nodeArgs = [...(profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []), ...extraArgs];
  const child = spawnChild(process.execPath, [...nodeArgs, ...ctx.ours.args, 'serve'], {
    cwd: ctx.repoRoot,
    logFile: join(home, 'hub.log'),
    env: {
      PATH: ctx.baseEnv.PATH ?? '/usr/bin:/bin',
      HOME: home,
      CLI_API_TOKEN: token,
      HAPI_LISTEN_HOST: '127.0.0.1',
      HAPI_LISTEN_PORT: String(port),
      HAPI_METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'warn',
      // Stop quickly between profiles (nothing is left to drain once the load test closed).
      HAPI_DRAIN_TIMEOUT_MS: '3000',
      ...(redis ? { REDIS_URL: redis.url } : { HAPI_ENGINE: name, HAPI_DATA_DIR: join(home, 'data') }),
      HAPI_WORKERS: name === 'redis2' ? '2' : '1',
      // `HAPI_SQLITE_SYNC=normal npm run bench -- --targets sqlite` measures the other sync mode.
      ...(ctx.baseEnv.HAPI_SQLITE_SYNC ? { HAPI_SQLITE_SYNC: ctx.baseEnv.HAPI_SQLITE_SYNC } : {}),
      // The bench measures capacity with every simulated CLI in one namespace: tenant limits
      // (README, Tenant limits) would cap that namespace long before the hub, so they are lifted.
      ...LIFTED_TENANT_LIMITS,
      ...NO_NETWORK_ENV,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    await child.stop(10_000);
    await redis?.child.stop();
  };
  if (!(await waitUntil(() => httpOk(`${url}/ready`), child, 60_000))) {
    const tail = child.tail();
    await stop();
    throw new Error(`${name} hub did not become ready:\n${tail}`);
  }
  return {
    url,
    token,
    pids: redis ? [child.pid, redis.child.pid] : [child.pid],
    ...(redis ? { redisUrl: redis.url } : {}),
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    stop,
  };
}

export interface TargetLauncher {
  /** Null when the target can run; else why it is skipped. */
  unavailable: string | null;
  start(tag: string): Promise<RunningTarget>;
}

export function launcherFor(name: TargetName, ctx: TargetContext): TargetLauncher {
  if (name === 'upstream') {
    const found = ensureUpstream(ctx.repoRoot, ctx.log);
    if (found.bin === null) return { unavailable: found.reason, start: () => Promise.reject(new Error(found.reason)) };
    const bin = found.bin;
    return { unavailable: null, start: (tag) => startUpstream(ctx, bin, tag) };
  }
  if (name !== 'memory' && name !== 'sqlite') {
    const which = spawnSync('redis-server', ['--version'], {
      encoding: 'utf8',
      timeout: 5_000,
      env: { PATH: ctx.baseEnv.PATH ?? '/usr/bin:/bin' },
    });
    if (which.status !== 0)
      return {
        unavailable: 'redis-server is not installed',
        start: () => Promise.reject(new Error('no redis-server')),
      };
  }
  if (name === 'redis2' && !existsSync(join(ctx.repoRoot, 'src', 'cluster', 'primary.ts'))) {
    return {
      unavailable: 'HAPI_WORKERS multi-worker mode (src/cluster) has not landed',
      start: () => Promise.reject(new Error('no cluster')),
    };
  }
  return { unavailable: null, start: (tag) => startOurs(ctx, name, tag) };
}
