// Real Redis for tests: a standalone server (optionally with AOF, restartable on the same port and
// dir), a Sentinel and a 3-master Cluster. They run in containers through testcontainers when a
// Docker engine answers (./redis-container.ts; the standalone server on a published port, Sentinel
// and Cluster nodes on the host's network so their 127.0.0.1 addresses work as for processes),
// else as spawned redis-server processes; the first start prints which (redisBackend). Loopback
// only; every wait is a bounded poll.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisBackend, startRedisContainer, type RedisContainerOptions } from './redis-container.js';

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 15_000;
const POLL_INTERVAL_MS = 25;

export interface RedisServerOptions {
  /** Enables the append-only file so data survives restart(). */
  appendonly?: boolean;
  /** Data directory; a fresh temp dir (removed when the process exits) when omitted. */
  dir?: string;
  port?: number;
  /** requirepass: clients must authenticate (the URL below carries no password). */
  requirepass?: string;
}

export interface RedisServerHandle {
  url: string;
  port: number;
  /** Graceful stop (SIGTERM: Redis flushes the AOF) and wait for exit. */
  stop(): Promise<void>;
  /** Immediate SIGKILL, for crash tests. */
  kill(): void;
  /** stop() then start again on the same port and dir. */
  restart(): Promise<void>;
}

export interface RedisClusterHandle {
  url: string;
  ports: number[];
  stop(): Promise<void>;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const port = options.port ?? (await findFreePort());
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'hapi-redis-'));
  const args = ['--appendonly', options.appendonly ? 'yes' : 'no', '--appendfsync', 'always'];
  if (options.requirepass !== undefined) args.push('--requirepass', options.requirepass);

  // The data dir outlives stop() so that restart() finds the AOF; a temp dir we made is removed
  // when the test process exits.
  if (ownsDir) process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

  const backend = redisBackend();
  if (backend.kind === 'container') {
    // Published on `port` from the container's 6379 (bridge network), data dir at /data.
    const containerArgs = ['--save', '', '--loglevel', 'warning', '--protected-mode', 'no', ...args];
    const launchContainer = async (): Promise<RedisNode> =>
      containerNode(backend.image, port, { args: containerArgs, port, mounts: [{ source: dir, target: '/data' }] });
    let node = await launchContainer();
    return {
      url: `redis://${HOST}:${port}`,
      port,
      stop: () => node.stop(),
      kill: () => node.kill(),
      async restart() {
        await node.stop();
        node = await launchContainer();
      },
    };
  }

  let child = await spawnProcess(port, processArgs(port, dir, args));
  return {
    url: `redis://${HOST}:${port}`,
    port,
    async stop() {
      await terminate(child);
    },
    kill() {
      child.kill('SIGKILL');
    },
    async restart() {
      await terminate(child);
      child = await spawnProcess(port, processArgs(port, dir, args));
    },
  };
}

/** REDIS_URL when the environment provides a server, else a fresh one for this test file. */
export async function getTestRedisUrl(): Promise<{ url: string; stop(): Promise<void> }> {
  const external = process.env.REDIS_URL;
  if (external) return { url: external, stop: async () => undefined };
  const server = await startRedisServer();
  return { url: server.url, stop: () => server.stop() };
}

export interface RedisSentinelHandle {
  /** redis+sentinel:// URL naming the monitored master. */
  url: string;
  stop(): Promise<void>;
}

/**
 * One sentinel monitoring the given master as `masterName` (quorum 1). Enough to exercise the
 * client's Sentinel discovery; failover tests would need replicas and more sentinels.
 */
export async function startRedisSentinel(masterPort: number, masterName = 'hapi'): Promise<RedisSentinelHandle> {
  const port = await findFreePort();
  const dir = mkdtempSync(join(tmpdir(), 'hapi-redis-sentinel-'));
  // Sentinel rewrites its config file, so it must be a writable file of its own.
  const config = join(dir, 'sentinel.conf');
  writeFileSync(
    config,
    [
      `port ${port}`,
      `bind ${HOST}`,
      `dir ${dir}`,
      `sentinel monitor ${masterName} ${HOST} ${masterPort} 1`,
      `sentinel down-after-milliseconds ${masterName} 5000`,
      '',
    ].join('\n'),
  );
  // Writable by a container's redis user too.
  chmodSync(config, 0o666);
  const node = await spawnAndWait(port, [config, '--sentinel', '--loglevel', 'warning'], dir);
  return {
    url: `redis+sentinel://${HOST}:${port}/${masterName}`,
    async stop() {
      await node.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Three masters, no replicas, all 16384 slots assigned; resolves when every node says ok. */
export async function startRedisCluster(): Promise<RedisClusterHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'hapi-redis-cluster-'));
  const ports: number[] = [];
  // Each node also listens on port + 10000 (cluster bus), so both must be free.
  while (ports.length < 3) {
    const port = await findFreePort();
    if (port + 10_000 > 65_535 || ports.includes(port) || !(await isPortFree(port + 10_000))) continue;
    ports.push(port);
  }
  const children: RedisNode[] = [];
  const stop = async () => {
    await Promise.all(children.map((child) => child.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      // One dir per node: each keeps its own nodes.conf.
      const nodeDir = join(dir, String(port));
      mkdirSync(nodeDir, { recursive: true });
      children.push(
        await launch(port, nodeDir, [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000',
          '--appendonly',
          'no',
        ]),
      );
    }
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((port) => `${HOST}:${port}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: READY_TIMEOUT_MS },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stderr || created.stdout}`);
    await pollUntil('cluster_state:ok on every node', async () => {
      const infos = await Promise.all(ports.map((port) => sendCommand(port, 'CLUSTER INFO')));
      return infos.every((info) => info.includes('cluster_state:ok'));
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis+cluster://${ports.map((port) => `${HOST}:${port}`).join(',')}`, ports, stop };
}

/** One running Redis node, a process or a container. */
interface RedisNode {
  stop(): Promise<void>;
  kill(): void;
}

function processArgs(port: number, dir: string, extraArgs: string[]): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--dir',
    dir,
    '--save',
    '',
    '--protected-mode',
    'no',
    '--loglevel',
    'warning',
    ...extraArgs,
  ];
}

async function launch(port: number, dir: string, extraArgs: string[]): Promise<RedisNode> {
  return spawnAndWait(port, processArgs(port, dir, extraArgs), dir);
}

/**
 * Starts redis-server with these arguments — in a container on the host's network (so Cluster
 * and Sentinel nodes see each other at 127.0.0.1, as spawned ones do) when the backend is
 * containers, `dir` mounted at the same path — and resolves once `port` answers PING.
 */
async function spawnAndWait(port: number, args: string[], dir: string): Promise<RedisNode> {
  const backend = redisBackend();
  if (backend.kind === 'container') {
    // The container's redis user writes nodes.conf / the rewritten sentinel config here.
    chmodSync(dir, 0o777);
    return containerNode(backend.image, port, { args, hostNetwork: true, mounts: [{ source: dir, target: dir }] });
  }
  const child = await spawnProcess(port, args);
  return { stop: () => terminate(child), kill: () => child.kill('SIGKILL') };
}

async function containerNode(image: string, port: number, options: RedisContainerOptions): Promise<RedisNode> {
  const container = await startRedisContainer(image, options);
  try {
    await pollUntil(`redis container on port ${port} answers PING`, () => answersPing(port));
  } catch (error) {
    container.kill();
    throw error;
  }
  return container;
}

/** Spawns redis-server with these arguments and resolves once `port` answers PING. */
async function spawnProcess(port: number, args: string[]): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code) => reject(new Error(`redis-server on port ${port} exited early (${code}): ${stderr}`)));
    child.once('error', reject);
  });
  try {
    await Promise.race([pollUntil(`redis-server on port ${port} answers PING`, () => answersPing(port)), exited]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  exited.catch(() => undefined);
  return child;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

async function pollUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  throw new Error(`timed out waiting for ${what}`, { cause: lastError });
}

/**
 * Sends one inline command and returns its reply (simple string or bulk string). Enough RESP for
 * readiness probes without depending on the client library under test.
 */
/** PONG, or NOAUTH from a server with requirepass: either way it is up and serving. */
async function answersPing(port: number): Promise<boolean> {
  try {
    return (await sendCommand(port, 'PING')) === 'PONG';
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('NOAUTH')) return true;
    throw error;
  }
}

function sendCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let buffer = '';
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(1_000, () => fail(new Error('probe timed out')));
    socket.once('error', fail);
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const reply = parseReply(buffer);
      if (reply === undefined) return;
      socket.end();
      if (reply instanceof Error) reject(reply);
      else resolve(reply);
    });
    socket.connect(port, HOST, () => socket.write(`${command}\r\n`));
  });
}

function parseReply(buffer: string): string | Error | undefined {
  const lineEnd = buffer.indexOf('\r\n');
  if (lineEnd < 0) return undefined;
  const line = buffer.slice(1, lineEnd);
  switch (buffer[0]) {
    case '+':
      return line;
    case '-':
      return new Error(line);
    case '$': {
      const length = Number(line);
      const body = Buffer.from(buffer.slice(lineEnd + 2), 'utf8');
      return body.length >= length + 2 ? body.subarray(0, length).toString('utf8') : undefined;
    }
    default:
      return new Error(`unexpected reply: ${buffer.slice(0, 80)}`);
  }
}
