// Redis for tests in a container, through testcontainers: the image docker-compose.yml runs
// (real where it can be pulled, scripts/base-images.sh's stand-in otherwise), its port published
// on a host port the caller chooses, its data directory a host directory (so a restart on the same
// port and directory finds the AOF, as with a spawned redis-server).
//
// The Ryuk reaper is off (TESTCONTAINERS_RYUK_DISABLED): its image cannot be pulled here. So we
// clean up ourselves: stop() removes the container, and whatever is still running when the test
// process exits is removed by `docker rm -f` (every container carries the label below).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { containerEngine, hasImage, REPO_ROOT } from './docker.js';

export const TEST_CONTAINER_LABEL = 'hapi-hub-cluster.test';

export type RedisBackend = { kind: 'container'; image: string; engine: string } | { kind: 'process'; reason: string };

let backend: RedisBackend | undefined;

/** The image of docker-compose.yml's redis service, with its `${VAR:-default}` defaults applied. */
export function composeRedisImage(): string {
  const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: { redis: { image: string } };
  };
  return compose.services.redis.image.replace(/\$\{[A-Za-z_]\w*:?-([^}]*)\}/g, '$1');
}

/**
 * Containers when an engine answers and the Redis image is there (HAPI_TEST_REDIS=process forces
 * spawned redis-server processes); decided once per test process and printed once, so the test
 * output says which was used.
 */
export function redisBackend(): RedisBackend {
  if (backend) return backend;
  const image = composeRedisImage();
  const engine = containerEngine();
  if (process.env.HAPI_TEST_REDIS === 'process') backend = { kind: 'process', reason: 'HAPI_TEST_REDIS=process' };
  else if (!engine.available) backend = { kind: 'process', reason: engine.reason };
  else if (!hasImage(image))
    backend = { kind: 'process', reason: `image ${image} is not available locally (scripts/base-images.sh makes it)` };
  else backend = { kind: 'container', image, engine: engine.version };
  console.log(
    backend.kind === 'container'
      ? `[redis] testcontainers: ${backend.image} containers on Docker ${backend.engine}`
      : `[redis] spawned redis-server processes (no container: ${backend.reason})`,
  );
  return backend;
}

const running = new Set<string>();
let exitHookInstalled = false;

function removeLeftovers(): void {
  if (running.size === 0) return;
  spawnSync('docker', ['rm', '-f', '-v', ...running], { stdio: 'ignore', timeout: 30_000 });
  running.clear();
}

export interface RedisContainer {
  id: string;
  /** Graceful stop (SIGTERM: Redis writes its AOF) and removal. */
  stop(): Promise<void>;
  /** SIGKILL, synchronous (crash tests). */
  kill(): void;
}

export interface RedisContainerOptions {
  /** Arguments after `redis-server` (a config file, when given, must come first). */
  args: string[];
  /** Host port published for the container's 6379 (bridge network). */
  port?: number;
  /** Share the host's network instead (Cluster and Sentinel nodes announce 127.0.0.1 addresses). */
  hostNetwork?: boolean;
  /** Host directories mounted read-write into the container. */
  mounts: { source: string; target: string }[];
}

/** Starts `redis-server <args>` in a container; resolves once the container runs (not yet PING). */
export async function startRedisContainer(image: string, options: RedisContainerOptions): Promise<RedisContainer> {
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  const { GenericContainer } = await import('testcontainers');
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', removeLeftovers);
  }
  let container = new GenericContainer(image)
    .withCommand(['redis-server', ...options.args])
    .withBindMounts(options.mounts.map((m) => ({ ...m, mode: 'rw' as const })))
    .withLabels({ [TEST_CONTAINER_LABEL]: String(process.pid) })
    .withStartupTimeout(30_000);
  // Readiness is the caller's PING poll; no port or log wait here (warning-level logs are empty).
  if (options.hostNetwork) container = container.withNetworkMode('host');
  if (options.port !== undefined) container = container.withExposedPorts({ container: 6379, host: options.port });
  const started = await container.start();
  const id = started.getId();
  running.add(id);
  return {
    id,
    async stop() {
      if (!running.has(id)) return;
      running.delete(id);
      await started.stop({ timeout: 10_000, remove: true, removeVolumes: true });
    },
    kill() {
      if (!running.has(id)) return;
      running.delete(id);
      spawnSync('docker', ['rm', '-f', '-v', id], { stdio: 'ignore', timeout: 30_000 });
    },
  };
}
