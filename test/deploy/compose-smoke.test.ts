// docker-compose.yml: validated against the Compose specification schema and cross-checked with
// the hub, the Dockerfile and deploy/haproxy.cfg; then its topology is run as local processes —
// redis-server with the compose flags, the hub replicas with the compose environment (ports
// remapped to free loopback ports, the `redis` host mapped to 127.0.0.1), HAProxy with
// deploy/haproxy.compose.cfg (server-template replaced by the local replicas) — and driven
// through HAProxy by CLI sockets (websocket and long-polling) and a web SSE client.
// test/containers/compose-e2e.test.ts runs the file itself in real containers where a Docker
// engine answers; this replay keeps the topology covered on machines without one.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { cliRest, connectCli, isNewMessage, nextEvent, pingBarrier } from '../helpers/cli-client.js';
import { findFreePort, waitFor } from '../helpers/cluster.js';
import { createSession } from '../helpers/fixtures.js';
import { openSse, type SseClient } from '../helpers/sse-client.js';
import { loginWeb } from '../helpers/web-api.js';
import { composeSchemaErrors, loadCompose, rawCompose, type ComposeFile } from './compose.js';
import { REPO_ROOT } from './k8s-tools.js';
import {
  haproxyAffinityCookie,
  haproxySection,
  hubEnvDefaults,
  HUB_ENV_KEYS,
  lbCookieName,
  parseHaproxy,
  readRepoFile,
  startLiveHub,
  type HaproxySection,
} from './sources.js';

const HOST = '127.0.0.1';
const COMPOSE_CFG = 'deploy/haproxy.compose.cfg';
const HAPROXY_CFG_IN_IMAGE = '/usr/local/etc/haproxy/haproxy.cfg';
/** Compose defaults that differ from the hub's own defaults on purpose, with the reason. */
const COMPOSE_OVERRIDES: Record<string, string> = {
  HAPI_LISTEN_HOST: 'containers listen on all interfaces',
  HAPI_WORKERS: 'several workers per replica (needs Redis, which compose provides)',
  REDIS_URL: 'the compose redis service',
  HAPI_PUBLIC_URL: 'HAProxy published on localhost:3006',
  HAPI_METRICS_HOST: 'the metrics listener is reached from the compose network (not published)',
  HAPI_METRICS_PORT: 'metrics on their own internal port',
  REDIS_PASSWORD_FILE: 'the password the redis-password service generates',
  HAPI_DATA_DIR: "the image's data volume path (deploy/Dockerfile), not ~/.hapi-hub",
};
/** Where the compose file mounts the generated Redis password and config (the redis-secrets volume). */
const SECRETS_DIR = '/run/hapi-redis';
/**
 * Variables whose compose default is `${VAR-default}` (unset → default, set-but-empty → empty),
 * with the reason: `:-` would bring the default back for an empty value.
 */
const EMPTYABLE: Record<string, string> = {
  REDIS_PASSWORD_FILE: 'emptied for a Redis of your own, whose password is in REDIS_URL / REDIS_PASSWORD',
};

/** Memory size as Redis and Docker write it (384mb, 512m, 1g, 2048) in bytes. */
function memoryBytes(text: string): number {
  const match = /^(\d+)\s*([kmg]?)b?$/i.exec(String(text).trim());
  if (!match) throw new Error(`not a memory size: ${text}`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(match[1]) * unit;
}

/** Go duration ("30s", "1m30s") in milliseconds. */
function durationMs(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const [, value, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(value) * units[unit!]!;
  return total;
}

/** The compose `command` of redis as redis-server arguments. */
function redisArgs(compose: ComposeFile): string[] {
  const command = compose.services.redis.command as string[];
  expect(command[0]).toBe('redis-server');
  return command.slice(1);
}

/** Backend lines that describe servers (they legitimately differ between the two configs). */
function isServerLine(line: string): boolean {
  return (
    /^(server|server-template|dynamic-cookie-key) /.test(line) ||
    /^\.if defined\(HAPI_HUB\d+_ADDR\)$/.test(line) ||
    line === '.endif'
  );
}

function normalisedBackend(section: HaproxySection): string[] {
  return section.lines
    .filter((l) => !isServerLine(l))
    .map((l) => (l.startsWith('cookie ') ? l.replace(/ dynamic\b/, '') : l));
}

/** deploy/haproxy.compose.cfg with the DNS template replaced by static local servers. */
function localHaproxyConfig(text: string, ports: number[]): string {
  const out: string[] = [];
  let inResolvers = false;
  for (const line of text.split('\n')) {
    if (/^resolvers\s/.test(line)) {
      inResolvers = true;
      continue;
    }
    if (inResolvers && /^[a-z]/.test(line)) inResolvers = false;
    if (inResolvers) continue;
    const template = /^(\s*)server-template (\S+) (\d+) "[^"]+"(.*)$/.exec(line);
    if (template) {
      const [, indent, prefix, slots, rest] = template;
      expect(Number(slots)).toBeGreaterThanOrEqual(ports.length);
      const options = rest!.replace(/\s(resolvers|resolve-prefer|init-addr)\s+\S+/g, '');
      for (const [i, port] of ports.entries()) out.push(`${indent}server ${prefix}${i + 1} ${HOST}:${port}${options}`);
      continue;
    }
    out.push(line);
  }
  return out.join('\n');
}

describe('docker-compose.yml (static)', () => {
  const compose = loadCompose();

  it('is valid against the Compose specification schema, with defaults and with overrides', () => {
    expect(composeSchemaErrors(compose)).toEqual([]);
    expect(
      composeSchemaErrors(
        loadCompose({
          HAPI_WORKERS: '4',
          HAPI_HTTP_PORT: '8080',
          REDIS_URL: 'redis+sentinel://s1:26379,s2:26379/mymaster',
        }),
      ),
    ).toEqual([]);
    // The validator is not vacuous: a wrong type and an unknown key are rejected.
    const broken = structuredClone(compose);
    broken.services.hub.deploy.replicas = 'two';
    broken.services.hub.restart_policy = 'always';
    broken.services.hub.stop_grace_period = '30 seconds';
    expect(
      composeSchemaErrors(broken)
        .map((e) => e.split(' {')[0])
        .sort(),
    ).toEqual([
      '/services/hub must NOT have additional properties',
      '/services/hub/deploy/replicas must be integer',
      '/services/hub/stop_grace_period must match format "duration"',
    ]);
  });

  it('gives the hub every variable of src/config.ts, each overridable with a documented default that parses', () => {
    const raw = rawCompose().services.hub.environment as Record<string, string>;
    expect(Object.keys(raw).sort()).toEqual([...HUB_ENV_KEYS].sort());
    const fixed = ['HAPI_LISTEN_HOST', 'HAPI_LISTEN_PORT'];
    for (const [key, value] of Object.entries(raw)) {
      if (fixed.includes(key)) expect(value, key).not.toContain('$');
      else if (key in EMPTYABLE) expect(value, key).toMatch(new RegExp(`^\\$\\{${key}-[^}]*\\}$`));
      else expect(value, key).toMatch(new RegExp(`^\\$\\{${key}:-[^}]*\\}$`));
    }
    const env = compose.services.hub.environment as Record<string, string>;
    // The password file exists inside the containers only.
    expect(env.REDIS_PASSWORD_FILE).toBe(`${SECRETS_DIR}/redis-password`);
    const config = loadConfig({ ...env, REDIS_PASSWORD_FILE: '', REDIS_PASSWORD: 'generated' });
    expect(config.metricsListen).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(config.metricsListen!.port).not.toBe(config.listenPort);
    expect(config.workers).toBeGreaterThan(1);
    expect(config.redisUrl).toBe('redis://:generated@redis:6379');
    // Same defaults as the hub, except where compose means otherwise.
    const defaults = hubEnvDefaults();
    const differing = Object.keys(env).filter((key) => env[key] !== '' && String(defaults[key]) !== env[key]);
    expect(differing.sort()).toEqual(Object.keys(COMPOSE_OVERRIDES).sort());
    // And an override really overrides.
    expect((loadCompose({ HAPI_WORKERS: '6' }).services.hub.environment as Record<string, string>).HAPI_WORKERS).toBe(
      '6',
    );
  });

  it('runs Redis 7 with AOF, noeviction, maxmemory below its memory limit, a volume and a healthcheck the hub waits for', () => {
    const redis = compose.services.redis;
    expect(redis.image).toMatch(/^redis:7(\.|$)/);
    const args = redisArgs(compose);
    expect(args[args.indexOf('--appendonly') + 1]).toBe('yes');
    expect(args[args.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
    // Room above maxmemory for Redis's own overhead and the AOF rewrite's copy-on-write pages.
    expect(memoryBytes(args[args.indexOf('--maxmemory') + 1]!)).toBeLessThanOrEqual(0.8 * memoryBytes(redis.mem_limit));
    expect(redis.volumes).toEqual(['redis-data:/data', `redis-secrets:${SECRETS_DIR}:ro`]);
    expect(Object.keys(compose.volumes ?? {})).toEqual(expect.arrayContaining(['redis-data', 'redis-secrets']));
    expect(redis.healthcheck.test[0]).toBe('CMD-SHELL');
    expect(redis.healthcheck.test[1]).toContain('REDISCLI_AUTH=');
    expect(compose.services.hub.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    const url = new URL((compose.services.hub.environment as Record<string, string>).REDIS_URL!);
    expect(url.hostname in compose.services).toBe(true);
  });

  it('Redis requires the generated password: config file from the one-shot service, never on a command line', () => {
    const generator = compose.services['redis-password'];
    expect(generator.image).toBe(compose.services.redis.image);
    expect(generator.volumes).toEqual([`redis-secrets:${SECRETS_DIR}`]);
    expect(generator.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(redisArgs(compose)[0]).toBe(`${SECRETS_DIR}/redis.conf`);
    expect(JSON.stringify(compose.services.redis.command)).not.toContain('requirepass');
    expect(compose.services.redis.depends_on).toEqual({
      'redis-password': { condition: 'service_completed_successfully' },
    });
    expect(compose.services.hub.volumes).toEqual([`redis-secrets:${SECRETS_DIR}:ro`]);
  });

  it('scales the hub: ≥ 2 replicas, no fixed container name or host port, built from deploy/Dockerfile', () => {
    const hub = compose.services.hub;
    expect(hub.deploy.replicas).toBeGreaterThanOrEqual(2);
    expect(hub.container_name).toBeUndefined();
    expect(hub.ports).toBeUndefined();
    expect(hub.build).toEqual({ context: '.', dockerfile: 'deploy/Dockerfile' });
    expect(hub.expose).toEqual([(hub.environment as Record<string, string>).HAPI_LISTEN_PORT]);
  });

  it('stop_grace_period outlasts the drain timeout', () => {
    const env = compose.services.hub.environment as Record<string, string>;
    expect(durationMs(compose.services.hub.stop_grace_period)).toBeGreaterThan(Number(env.HAPI_DRAIN_TIMEOUT_MS));
  });

  it('HAProxy ≥ 2.6 mounts deploy/haproxy.compose.cfg, publishes its port, and finds the hub replicas by DNS', () => {
    const lb = compose.services.haproxy;
    const [, major, minor] = /^haproxy:(\d+)\.(\d+)/.exec(lb.image)!;
    expect(Number(major) * 100 + Number(minor)).toBeGreaterThanOrEqual(206);
    expect(lb.volumes).toEqual([`./${COMPOSE_CFG}:${HAPROXY_CFG_IN_IMAGE}:ro`]);
    const env = lb.environment as Record<string, string>;
    expect(lb.ports).toEqual([`0.0.0.0:3006:${env.HAPI_LB_PORT}`]);
    expect(loadCompose({ HAPI_HTTP_BIND: '127.0.0.1', HAPI_HTTP_PORT: '8080' }).services.haproxy.ports).toEqual([
      `127.0.0.1:8080:${env.HAPI_LB_PORT}`,
    ]);
    expect(env.HAPI_HUB_DNS! in compose.services).toBe(true);
    expect(env.HAPI_HUB_PORT).toBe(
      (compose.services[env.HAPI_HUB_DNS!].environment as Record<string, string>).HAPI_LISTEN_PORT,
    );

    const sections = parseHaproxy(readRepoFile(COMPOSE_CFG));
    const resolvers = haproxySection(sections, 'resolvers');
    expect(resolvers.lines).toContain('nameserver dns1 127.0.0.11:53');
    const template = haproxySection(sections, 'backend').lines.find((l) => l.startsWith('server-template '))!;
    expect(template).toContain(`resolvers ${resolvers.header.split(' ')[1]}`);
    expect(template).toContain('init-addr none');
    // The template address, expanded with the compose environment, is the hub service and port.
    const address = /"([^"]+)"/
      .exec(template)![1]!
      .replace(/\$\{(\w+)-([^}]*)\}/g, (_m, key: string, fallback: string) => env[key] ?? fallback);
    expect(address).toBe(`${env.HAPI_HUB_DNS}:${env.HAPI_HUB_PORT}`);
  });

  it('HAProxy accepts deploy/haproxy.compose.cfg (haproxy -c) with the compose environment', () => {
    const env = compose.services.haproxy.environment as Record<string, string>;
    const result = spawnSync('haproxy', ['-c', '-f', join(REPO_ROOT, COMPOSE_CFG)], {
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(`${result.stdout}${result.stderr}`).toContain('Configuration file is valid');
    expect(result.status).toBe(0);
  });

  it('deploy/haproxy.compose.cfg matches deploy/haproxy.cfg except for server discovery', async () => {
    const compose = parseHaproxy(readRepoFile(COMPOSE_CFG));
    const cluster = parseHaproxy(readRepoFile('deploy/haproxy.cfg'));
    for (const header of ['global', 'defaults', 'frontend'])
      expect(haproxySection(compose, header), header).toEqual(haproxySection(cluster, header));
    const composeBackend = haproxySection(compose, 'backend');
    expect(composeBackend.header).toBe(haproxySection(cluster, 'backend').header);
    expect(normalisedBackend(composeBackend)).toEqual(normalisedBackend(haproxySection(cluster, 'backend')));
    // Named facts, so a drift reads clearly: same affinity cookie, no connection reuse, /ready checks.
    const cookie = haproxyAffinityCookie(composeBackend);
    expect(cookie.name).toBe(lbCookieName());
    expect(cookie.options).toEqual(expect.arrayContaining(['insert', 'dynamic']));
    expect(haproxySection(compose, 'defaults').lines).toContain('http-reuse never');
    expect(composeBackend.lines).toContain('option httpchk GET /ready');
    // The stick table learns the cookie Socket.IO really sets.
    const live = await startLiveHub();
    try {
      const stored = composeBackend.lines.find((l) => l.startsWith('stick store-response res.cook('))!;
      expect(await live.socketIoCookieNames()).toContain(/res\.cook\(([^)]+)\)/.exec(stored)![1]);
    } finally {
      await live.hub.close();
    }
  });
});

interface Replica {
  port: number;
  child: ChildProcess;
  output: string[];
  exited: Promise<{ code: number | null; durationMs: number }>;
  signalledAt: number;
}

describe('docker-compose.yml topology as local processes (smoke)', () => {
  const compose = loadCompose();
  const dataDir = mkdtempSync(join(tmpdir(), 'hapi-compose-'));
  const adminSocket = join(dataDir, 'haproxy.sock');
  const replicas: Replica[] = [];
  let redis: ChildProcess | undefined;
  let redisPort = 0;
  let redisPassword = '';
  const secretsDir = join(dataDir, 'secrets');
  mkdirSync(secretsDir);
  /** A path of the redis-secrets volume as its local directory. */
  const local = (text: string): string => text.split(SECRETS_DIR).join(secretsDir);
  const metricsPorts: number[] = [];
  let lb: ChildProcess | undefined;
  const lbOutput: string[] = [];
  let lbUrl = '';
  let token = '';
  const sockets: Socket[] = [];
  let sse: SseClient | undefined;

  const killEverything = () => {
    for (const replica of replicas) {
      try {
        // Own process group: the primary and its workers.
        if (replica.child.pid !== undefined) process.kill(-replica.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    lb?.kill('SIGKILL');
    redis?.kill('SIGKILL');
  };

  const adminCommand = (command: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = createConnection(adminSocket);
      let reply = '';
      socket.setTimeout(2_000, () => socket.destroy(new Error(`no answer to "${command}"`)));
      socket.on('data', (chunk: Buffer) => (reply += chunk.toString()));
      socket.once('error', reject);
      socket.once('close', () => resolve(reply));
      socket.once('connect', () => socket.end(`${command}\n`));
    });

  const serverStates = async (): Promise<Record<string, string>> => {
    const states: Record<string, string> = {};
    for (const line of (await adminCommand('show stat')).split('\n')) {
      const fields = line.split(',');
      if (fields[0] === 'hapi_hubs' && fields[1] && fields[1] !== 'BACKEND' && fields[1] !== 'FRONTEND')
        states[fields[1]] = fields[17] ?? '';
    }
    return states;
  };

  beforeAll(async () => {
    process.once('exit', killEverything);

    // The one-shot password service's script, with its volume at a local directory.
    const generator = spawnSync('sh', ['-c', local(compose.services['redis-password'].command[2] as string)], {
      encoding: 'utf8',
    });
    expect(generator.status, generator.stderr).toBe(0);
    expect(generator.stdout).toBe('');
    redisPassword = readFileSync(join(secretsDir, 'redis-password'), 'utf8');
    expect(redisPassword).toMatch(/^[0-9a-f]{64}$/);
    // Redis with the compose flags; only where it listens and keeps its files is local.
    redisPort = await findFreePort();
    redis = spawn(
      'redis-server',
      [
        ...redisArgs(compose).map(local),
        '--port',
        String(redisPort),
        '--bind',
        HOST,
        '--dir',
        dataDir,
        '--protected-mode',
        'no',
      ],
      { stdio: 'ignore' },
    );
    const probe = new Redis({
      host: HOST,
      port: redisPort,
      password: redisPassword,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    // Refused connects while redis-server starts are expected; the poll below retries them.
    probe.on('error', () => undefined);
    await waitFor('redis-server to answer PING', 15_000, async () => {
      try {
        if (probe.status !== 'ready') await probe.connect();
        return (await probe.ping()) === 'PONG';
      } catch {
        probe.disconnect();
        return false;
      }
    });
    probe.disconnect();

    // The replicas, with the compose environment as `docker compose up` (nothing set) gives it.
    const composeEnv = compose.services.hub.environment as Record<string, string>;
    const redisUrl = new URL(composeEnv.REDIS_URL!);
    expect(redisUrl.hostname).toBe('redis');
    redisUrl.hostname = HOST;
    redisUrl.port = String(redisPort);
    const count = compose.services.hub.deploy.replicas as number;
    for (let i = 0; i < count; i++) {
      const port = await findFreePort();
      // Each container has its own 9464; local processes need one each.
      const metricsPort = await findFreePort();
      metricsPorts.push(metricsPort);
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
        cwd: REPO_ROOT,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          ...composeEnv,
          HAPI_LISTEN_HOST: HOST,
          HAPI_LISTEN_PORT: String(port),
          HAPI_METRICS_HOST: HOST,
          HAPI_METRICS_PORT: String(metricsPort),
          REDIS_URL: redisUrl.toString().replace(/\/$/, ''),
          REDIS_PASSWORD_FILE: local(composeEnv.REDIS_PASSWORD_FILE!),
        },
      });
      const replica: Replica = {
        port,
        child,
        output: [],
        signalledAt: 0,
        exited: new Promise((resolve) =>
          child.once('exit', (code) => resolve({ code, durationMs: Date.now() - replica.signalledAt })),
        ),
      };
      const keep = (chunk: Buffer) => {
        replica.output.push(
          ...chunk
            .toString()
            .split('\n')
            .filter((l) => l !== ''),
        );
        if (replica.output.length > 400) replica.output.splice(0, replica.output.length - 400);
      };
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      replicas.push(replica);
    }
    await Promise.all(
      replicas.map((replica, i) =>
        waitFor(`replica ${i + 1} /ready`, 90_000, async () => {
          if (replica.child.exitCode !== null)
            throw new Error(`replica ${i + 1} exited:\n${replica.output.slice(-30).join('\n')}`);
          try {
            return (await fetch(`http://${HOST}:${replica.port}/ready`)).status === 200;
          } catch {
            return false;
          }
        }),
      ),
    );

    // HAProxy with the compose config; its env as compose sets it, plus where to listen locally.
    const cfgPath = join(dataDir, 'haproxy.cfg');
    writeFileSync(
      cfgPath,
      localHaproxyConfig(
        readRepoFile(COMPOSE_CFG),
        replicas.map((r) => r.port),
      ),
    );
    const lbPort = await findFreePort();
    lbUrl = `http://${HOST}:${lbPort}`;
    lb = spawn('haproxy', ['-db', '-f', cfgPath], {
      cwd: dataDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        ...(compose.services.haproxy.environment as Record<string, string>),
        HAPI_LB_BIND: HOST,
        HAPI_LB_PORT: String(lbPort),
        HAPI_LB_ADMIN_SOCKET: adminSocket,
      },
    });
    const keepLb = (chunk: Buffer) =>
      lbOutput.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((l) => l !== ''),
      );
    lb.stdout!.on('data', keepLb);
    lb.stderr!.on('data', keepLb);
    await waitFor('HAProxy to report every replica UP', 30_000, async () => {
      if (lb!.exitCode !== null) throw new Error(`haproxy exited:\n${lbOutput.join('\n')}`);
      const states = await serverStates().catch(() => ({}) as Record<string, string>);
      return Object.keys(states).length === replicas.length && Object.values(states).every((s) => s.startsWith('UP'));
    });

    // The token the cluster generated (no CLI_API_TOKEN in the compose defaults).
    await waitFor('a replica to print the generated CLI_API_TOKEN', 10_000, () =>
      replicas.some((r) => r.output.some((l) => l.includes('CLI_API_TOKEN (generated'))),
    );
    token = /CLI_API_TOKEN \(generated, keep it safe\): (\S+)/.exec(
      replicas.flatMap((r) => r.output).find((l) => l.includes('CLI_API_TOKEN (generated'))!,
    )![1]!;
  }, 180_000);

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    sse?.close();
    const exits = [lb, redis]
      .filter((c): c is ChildProcess => c !== undefined && c.exitCode === null && c.signalCode === null)
      .map((c) => new Promise((r) => c.once('exit', r)));
    killEverything();
    await Promise.all([...replicas.map((r) => r.exited), ...exits]);
    process.removeListener('exit', killEverything);
    // Workers of a SIGKILLed primary are in its process group, killed above; wait until gone.
    await waitFor('replica process groups to exit', 30_000, () =>
      replicas.every((r) => r.child.pid === undefined || !groupAlive(r.child.pid)),
    );
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('Redis runs with the compose flags (AOF on, noeviction, maxmemory) and refuses clients without the password', async () => {
    const client = new Redis({ host: HOST, port: redisPort, password: redisPassword, maxRetriesPerRequest: 1 });
    const anonymous = new Redis({ host: HOST, port: redisPort, maxRetriesPerRequest: 0, lazyConnect: true });
    anonymous.on('error', () => undefined);
    try {
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      expect(await client.config('GET', 'maxmemory')).toEqual(['maxmemory', String(384 * 1024 ** 2)]);
      await anonymous.connect().catch(() => undefined);
      await expect(anonymous.get('x')).rejects.toThrow(/NOAUTH/);
    } finally {
      client.disconnect();
      anonymous.disconnect();
    }
  });

  it('never prints the Redis password; metrics on the internal port, 404 on the public one and through HAProxy', async () => {
    for (const replica of replicas) expect(replica.output.join('\n')).not.toContain(redisPassword);
    for (const [i, replica] of replicas.entries()) {
      const scraped = await fetch(`http://${HOST}:${metricsPorts[i]}/metrics`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toMatch(/^hapi_worker_cli_sockets\{worker="\d+"\} \d+$/m);
      expect((await fetch(`http://${HOST}:${replica.port}/metrics`)).status).toBe(404);
    }
    expect((await fetch(`${lbUrl}/metrics`)).status).toBe(404);
  });

  it('the cluster generated one CLI token, printed once across all replicas and workers', () => {
    const printed = replicas.flatMap((r) => r.output).filter((l) => l.includes('CLI_API_TOKEN (generated'));
    expect(printed.length).toBe(1);
    expect(token.length).toBeGreaterThanOrEqual(16);
  });

  it('HAProxy spreads new long-polling sessions over the replicas, inserts its cookie, and routes cookie-less follow-ups by sid', async () => {
    const lbCookies = new Set<string>();
    for (let i = 0; i < 2 * replicas.length; i++) {
      const open = await fetch(`${lbUrl}/socket.io/?EIO=4&transport=polling`);
      const body = await open.text();
      expect(open.status).toBe(200);
      const cookies = Object.fromEntries(
        open.headers.getSetCookie().map((c) => c.split(';')[0]!.split('=') as [string, string]),
      );
      const sid = (JSON.parse(body.slice(1)) as { sid: string }).sid;
      expect(cookies.io).toBe(sid);
      expect(cookies[lbCookieName()]).toBeDefined();
      lbCookies.add(cookies[lbCookieName()]!);
      // No cookie sent (like the CLI): the stick table must still find the replica holding sid.
      const close = await fetch(`${lbUrl}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, {
        method: 'POST',
        body: '1',
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
      });
      expect(`${close.status} ${await close.text()}`).toBe('200 ok');
    }
    expect(lbCookies.size).toBe(replicas.length);
  });

  it('a CLI message sent through HAProxy reaches a web SSE client (message-received) and the CLI peers on other replicas', async () => {
    const rest = cliRest(lbUrl, token);
    const session = await createSession(rest);

    const jwt = await loginWeb(lbUrl, token);
    sse = await openSse(lbUrl, { token: jwt, query: { all: 'true' }, timeoutMs: 15_000 });
    expect(sse.status).toBe(200);
    // The stream is subscribed once its first frame arrived.
    await sse.next();

    const auth = { token, clientType: 'session-scoped', sessionId: session.id };
    const poller = await connectCli(lbUrl, auth, { transports: ['polling'], timeoutMs: 15_000 });
    sockets.push(poller);
    const ws = await connectCli(lbUrl, auth, { timeoutMs: 15_000 });
    sockets.push(ws);
    await Promise.all([pingBarrier(poller), pingBarrier(ws)]);
    expect(poller.io.engine.transport.name).toBe('polling');

    const content = { role: 'agent', content: { type: 'output', data: 'through haproxy, long-polling' } };
    poller.emit('message', { sid: session.id, message: content });
    const frame = await sse.next(
      (f) => f.event.type === 'message-received' && f.event.sessionId === session.id,
      15_000,
    );
    expect(frame.event).toMatchObject({
      type: 'message-received',
      sessionId: session.id,
      message: { seq: 1, content },
    });
    const update = await nextEvent<{ body: { message: { seq: number; content: unknown } } }>(
      ws,
      'update',
      isNewMessage(session.id),
      15_000,
    );
    expect(update.body.message).toMatchObject({ seq: 1, content });

    const second = { role: 'agent', content: { type: 'output', data: 'through haproxy, websocket' } };
    ws.emit('message', { sid: session.id, message: second });
    const frame2 = await sse.next(
      (f) => f.event.type === 'message-received' && f.event.sessionId === session.id,
      15_000,
    );
    expect(frame2.event).toMatchObject({ message: { seq: 2, content: second } });
    expect(
      (await nextEvent<{ body: { message: { seq: number } } }>(poller, 'update', isNewMessage(session.id), 15_000)).body
        .message.seq,
    ).toBe(2);
  });

  it('on SIGTERM (docker stop) every replica drains and exits 0 within stop_grace_period', async () => {
    for (const socket of sockets.splice(0)) socket.close();
    sse?.close();
    const grace = durationMs(compose.services.hub.stop_grace_period);
    const exits = await Promise.all(
      replicas.map((replica) => {
        replica.signalledAt = Date.now();
        replica.child.kill('SIGTERM');
        return replica.exited;
      }),
    );
    for (const exit of exits) {
      expect(exit.code).toBe(0);
      expect(exit.durationMs).toBeLessThan(grace);
    }
  }, 60_000);
});

/** True while a non-zombie process of the group exists (Linux /proc). */
function groupAlive(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z' && Number(fields[2]) === pgid) return true;
    } catch {
      // exited meanwhile
    }
  }
  return false;
}
