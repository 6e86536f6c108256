// A whole deployment on loopback for the cluster e2e suites: redis-server (AOF on), M hub
// "hosts" (each a real `node --import tsx src/main.ts serve` primary with HAPI_WORKERS workers,
// started detached so it leads its own process group), and HAProxy from Debian running
// deploy/haproxy.cfg with the hosts' ports in its environment.
//
//   const c = await startCluster({ hosts: 2, workersPerHost: 2, env: { HAPI_SESSION_TTL_MS: '3000' } });
//   c.lbUrl / c.hosts[0].url / c.token
//   await c.killHost(c.hosts[1]);     // SIGKILL primary and workers
//   await c.startHost(c.hosts[1]);    // same port, waits for /ready and for HAProxy to see it UP
//   await c.stop();
//
// Every wait is a poll of a condition with a bounded deadline; nothing sleeps for a fixed time.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedisServer, type RedisServerHandle } from './redis-server.js';

const HOST = '127.0.0.1';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const POLL_MS = 50;
/** tsx compiles the hub on start; on a loaded 2-core machine a host needs several seconds. */
const HOST_READY_TIMEOUT_MS = 60_000;
const LB_STATE_TIMEOUT_MS = 15_000;
const EXIT_TIMEOUT_MS = 30_000;
const OUTPUT_LINES_KEPT = 2_000;

export interface ClusterOptions {
  /** Hub hosts behind HAProxy (deploy/haproxy.cfg has server slots hub1..hub4). Default 2. */
  hosts?: number;
  /** HAPI_WORKERS of every host. Default 2. */
  workersPerHost?: number;
  /** Extra hub environment (short TTLs, sweep interval, drain timeout, log level...). */
  env?: Record<string, string>;
}

export interface HostExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From the signal to the exit of the last process of the host. */
  durationMs: number;
}

export interface HubHost {
  /** HAProxy server name: hub1, hub2, ... */
  readonly name: string;
  readonly port: number;
  /** Direct URL of this host (bypasses HAProxy), e.g. to force placement on it. */
  readonly url: string;
  /** GET /metrics of this host: its primary's internal metrics listener (HAPI_METRICS_PORT). */
  readonly metricsUrl: string;
  /** Process id of the primary (= its process group id) while running. */
  readonly pid: number | null;
  readonly running: boolean;
  /** Last lines of the host's stdout/stderr (JSON logs of the primary and its workers). */
  output(): string;
  /** Cluster worker id → pid, for every worker the primary started since the host's last start. */
  workerPids(): Record<string, number>;
}

export interface TestCluster {
  readonly redis: RedisServerHandle;
  readonly redisUrl: string;
  /** HAProxy's frontend. */
  readonly lbUrl: string;
  /** CLI_API_TOKEN shared by every host. */
  readonly token: string;
  readonly hosts: HubHost[];
  /** Starts a stopped host on its port; resolves once /ready is 200 and HAProxy has it UP. */
  startHost(host: HubHost): Promise<void>;
  /** SIGTERM to the primary only (like `docker stop`): the host drains; resolves on exit. */
  stopHost(host: HubHost): Promise<HostExit>;
  /** SIGKILL to the host's whole process group (primary and workers); resolves when all are gone. */
  killHost(host: HubHost): Promise<void>;
  /**
   * Stops redis-server (SIGTERM: it flushes its AOF), runs `whileDown`, and starts it again on
   * the same port and data dir.
   */
  restartRedis(whileDown?: () => Promise<void>): Promise<void>;
  /** HAProxy's view of each server (UP, DOWN, MAINT, NOLB, ...), from its runtime API. */
  lbStates(): Promise<Record<string, string>>;
  /** Waits until HAProxy reports `state` (prefix match: 'UP', 'DOWN', 'MAINT') for the host. */
  waitForLb(host: HubHost, state: string, timeoutMs?: number): Promise<void>;
  /** `set server hapi_hubs/<host> state <state>` (maint: no traffic; ready: back in rotation). */
  setLbState(host: HubHost, state: 'ready' | 'maint' | 'drain'): Promise<void>;
  /** HAProxy's log and messages (bounded). */
  lbOutput(): string;
  stop(): Promise<void>;
}

interface HostState {
  name: string;
  port: number;
  metricsPort: number;
  child: ChildProcess | null;
  exited: Promise<HostExit> | null;
  signalledAt: number;
  lines: string[];
  workerPids: Record<string, number>;
}

export async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  const hostCount = options.hosts ?? 2;
  if (hostCount < 1 || hostCount > 4) throw new Error('deploy/haproxy.cfg has server slots for 1..4 hosts');
  const workers = options.workersPerHost ?? 2;
  const dataDir = mkdtempSync(join(tmpdir(), 'hapi-cluster-'));
  const token = randomBytes(18).toString('base64url');
  const jwtSecret = randomBytes(24).toString('base64url');
  const adminSocket = join(dataDir, 'haproxy.sock');

  const redisPort = await findFreePort();
  let redis = await startRedisServer({ appendonly: true, port: redisPort, dir: dataDir });
  const redisUrl = redis.url;

  const hosts: HostState[] = [];
  for (let i = 0; i < hostCount; i++)
    hosts.push({
      name: `hub${i + 1}`,
      port: await findFreePort(),
      metricsPort: await findFreePort(),
      child: null,
      exited: null,
      signalledAt: 0,
      lines: [],
      workerPids: {},
    });
  const lbPort = await findFreePort();

  const hubEnv = (host: HostState): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    HAPI_LISTEN_HOST: HOST,
    HAPI_LISTEN_PORT: String(host.port),
    HAPI_METRICS_PORT: String(host.metricsPort),
    HAPI_PUBLIC_URL: `http://${HOST}:${lbPort}`,
    HAPI_WORKERS: String(workers),
    REDIS_URL: redisUrl,
    CLI_API_TOKEN: token,
    HAPI_JWT_SECRET: jwtSecret,
    LOG_LEVEL: 'info',
    ...options.env,
  });

  const launchHost = (host: HostState): void => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
      cwd: ROOT,
      env: hubEnv(host),
      // Own process group: killHost can SIGKILL the primary and its workers at once.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    host.child = child;
    host.lines = [];
    host.workerPids = {};
    let partial = '';
    const keep = (chunk: Buffer): void => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.length === 0) continue;
        host.lines.push(line);
        if (line.includes('"worker started"')) recordWorker(host, line);
      }
      if (host.lines.length > OUTPUT_LINES_KEPT) host.lines.splice(0, host.lines.length - OUTPUT_LINES_KEPT);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const pgid = child.pid;
    host.exited = new Promise<HostExit>((resolveExit) => {
      child.once('exit', (code, signal) => {
        // The primary is gone; its workers may still be finishing (or orphaned after a kill).
        void waitFor(
          `${host.name}'s workers to exit`,
          EXIT_TIMEOUT_MS,
          () => pgid === undefined || !groupAlive(pgid),
        ).finally(() => {
          host.child = null;
          resolveExit({ code, signal, durationMs: Date.now() - host.signalledAt });
        });
      });
    });
  };

  const lbChild = spawn('haproxy', ['-db', '-f', join(ROOT, 'deploy', 'haproxy.cfg')], {
    cwd: dataDir,
    env: {
      PATH: process.env.PATH,
      HAPI_LB_BIND: HOST,
      HAPI_LB_PORT: String(lbPort),
      HAPI_LB_CHECK_INTER: '250ms',
      // One line per request, so a failing test can show what the load balancer did.
      HAPI_LB_LOG_LEVEL: 'info',
      HAPI_LB_ADMIN_SOCKET: adminSocket,
      ...Object.fromEntries(hosts.map((host, i) => [`HAPI_HUB${i + 1}_ADDR`, `${HOST}:${host.port}`])),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lbLines: string[] = [];
  const keepLb = (chunk: Buffer): void => {
    lbLines.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((line) => line.length > 0),
    );
    if (lbLines.length > OUTPUT_LINES_KEPT) lbLines.splice(0, lbLines.length - OUTPUT_LINES_KEPT);
  };
  lbChild.stdout?.on('data', keepLb);
  lbChild.stderr?.on('data', keepLb);

  const adminCommand = (command: string): Promise<string> =>
    new Promise((resolveCommand, reject) => {
      const socket = createConnection(adminSocket);
      let reply = '';
      socket.setTimeout(2_000, () => socket.destroy(new Error(`HAProxy admin socket: no answer to "${command}"`)));
      socket.on('data', (chunk: Buffer) => {
        reply += chunk.toString('utf8');
      });
      socket.once('error', reject);
      socket.once('close', () => resolveCommand(reply));
      socket.once('connect', () => socket.end(`${command}\n`));
    });

  const lbStates = async (): Promise<Record<string, string>> => {
    const csv = await adminCommand('show stat');
    const lines = csv.split('\n').filter((line) => line.length > 0 && !line.startsWith('#'));
    const states: Record<string, string> = {};
    for (const line of lines) {
      const fields = line.split(',');
      // pxname, svname, ... status is the 18th column (index 17).
      if (fields[0] === 'hapi_hubs' && fields[1] !== undefined && fields[1] !== 'BACKEND')
        states[fields[1]] = fields[17] ?? '';
    }
    return states;
  };

  const publicHost = (state: HostState): HubHost => ({
    name: state.name,
    port: state.port,
    url: `http://${HOST}:${state.port}`,
    metricsUrl: `http://${HOST}:${state.metricsPort}/metrics`,
    get pid() {
      return state.child?.pid ?? null;
    },
    get running() {
      return state.child !== null;
    },
    output: () => state.lines.join('\n'),
    workerPids: () => ({ ...state.workerPids }),
  });
  const publicHosts = hosts.map(publicHost);
  const stateOf = (host: HubHost): HostState => {
    const state = hosts.find((candidate) => candidate.name === host.name);
    if (!state) throw new Error(`unknown host ${host.name}`);
    return state;
  };

  const waitForLb = async (host: HubHost, state: string, timeoutMs = LB_STATE_TIMEOUT_MS): Promise<void> => {
    let last: Record<string, string> = {};
    await waitFor(`HAProxy to report ${host.name} ${state}`, timeoutMs, async () => {
      last = await lbStates().catch(() => ({}));
      return (last[host.name] ?? '').startsWith(state);
    }).catch((error: unknown) => {
      throw new Error(
        `${error instanceof Error ? error.message : String(error)} (last: ${JSON.stringify(last)})\n${lbLines.slice(-20).join('\n')}`,
      );
    });
  };

  const startHost = async (host: HubHost): Promise<void> => {
    const state = stateOf(host);
    if (state.child) throw new Error(`${host.name} is already running`);
    launchHost(state);
    await waitFor(`${host.name} /ready`, HOST_READY_TIMEOUT_MS, async () => {
      if (state.child === null)
        throw new Error(`${host.name} exited during start-up:\n${state.lines.slice(-30).join('\n')}`);
      return (await httpStatus(`${host.url}/ready`)) === 200;
    });
    await waitForLb(host, 'UP');
  };

  const signalHost = async (host: HubHost, signal: NodeJS.Signals, group: boolean): Promise<HostExit> => {
    const state = stateOf(host);
    const child = state.child;
    const exited = state.exited;
    if (!child || !exited || child.pid === undefined) throw new Error(`${host.name} is not running`);
    state.signalledAt = Date.now();
    process.kill(group ? -child.pid : child.pid, signal);
    return exited;
  };

  const killAllNow = (): void => {
    for (const state of hosts) {
      const pid = state.child?.pid;
      if (pid !== undefined) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    lbChild.kill('SIGKILL');
  };
  // A crashed test run must not leave hub processes behind.
  process.once('exit', killAllNow);

  const cluster: TestCluster = {
    get redis() {
      return redis;
    },
    redisUrl,
    lbUrl: `http://${HOST}:${lbPort}`,
    token,
    hosts: publicHosts,
    startHost,
    stopHost: (host) => signalHost(host, 'SIGTERM', false),
    async killHost(host) {
      await signalHost(host, 'SIGKILL', true);
    },
    async restartRedis(whileDown) {
      await redis.stop();
      try {
        await whileDown?.();
      } finally {
        redis = await startRedisServer({ appendonly: true, port: redisPort, dir: dataDir });
      }
    },
    lbStates,
    waitForLb,
    async setLbState(host, state) {
      const reply = await adminCommand(`set server hapi_hubs/${host.name} state ${state}`);
      if (reply.trim() !== '') throw new Error(`HAProxy refused "set server ${host.name} state ${state}": ${reply}`);
    },
    lbOutput: () => lbLines.join('\n'),
    async stop() {
      process.removeListener('exit', killAllNow);
      await Promise.all(
        hosts.map(async (state) => {
          const pid = state.child?.pid;
          if (pid === undefined || !state.exited) return;
          try {
            process.kill(-pid, 'SIGKILL');
          } catch {
            return;
          }
          await state.exited;
        }),
      );
      if (lbChild.exitCode === null && lbChild.signalCode === null) {
        const lbExited = new Promise<void>((resolveExit) => lbChild.once('exit', () => resolveExit()));
        lbChild.kill('SIGTERM');
        await lbExited;
      }
      await redis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };

  try {
    await waitFor('HAProxy admin socket', LB_STATE_TIMEOUT_MS, async () => {
      if (lbChild.exitCode !== null) throw new Error(`haproxy exited (${lbChild.exitCode}):\n${lbLines.join('\n')}`);
      return Object.keys(await lbStates().catch(() => ({}))).length === hostCount;
    });
    // Hosts start in parallel: each compiles the hub with tsx, which dominates start-up time.
    await Promise.all(publicHosts.map((host) => startHost(host)));
  } catch (error) {
    await cluster.stop().catch(() => undefined);
    throw error;
  }
  return cluster;
}

/** The primary logs `{"worker": <cluster id>, "workerPid": <pid>, "msg": "worker started"}`. */
function recordWorker(host: HostState, line: string): void {
  try {
    const entry = JSON.parse(line) as { worker?: unknown; workerPid?: unknown };
    if (typeof entry.worker === 'number' && typeof entry.workerPid === 'number')
      host.workerPids[String(entry.worker)] = entry.workerPid;
  } catch {
    // not a JSON log line
  }
}

/** Polls `check` every 50 ms until it returns true; throws after `timeoutMs` (or if check throws a non-retryable error). */
export async function waitFor(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolveDelay) => setTimeout(resolveDelay, POLL_MS));
  }
}

/** Status of a GET, or 0 when the request fails or takes longer than 2 s. */
export async function httpStatus(url: string): Promise<number> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

/** True while any non-zombie process of the process group exists (Linux /proc). */
function groupAlive(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp ... — comm may contain spaces, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== 'Z' && Number(fields[2]) === pgid) return true;
  }
  return false;
}

/** Ports handed out by this process: a port is free again once probed, so the kernel may offer it twice. */
const handedOut = new Set<number>();

export async function findFreePort(): Promise<number> {
  for (;;) {
    const port = await probeFreePort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

function probeFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolvePort(port) : reject(new Error('no free port'))));
    });
  });
}
