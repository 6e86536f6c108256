// The image alone, as the README's "Container image" lines use it: `docker build -f
// deploy/Dockerfile -t hapi-hub-cluster:0.1.0 .` and `docker run --rm -p …:3006 -e REDIS_URL=…`,
// with a Redis container on a network of its own. It serves, passes its HEALTHCHECK, runs as
// 1000:1000, and on `docker stop` (Docker's default 10 s grace) drains and exits 0.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCli, disconnected } from '../helpers/cli-client.js';
import { findFreePort, httpStatus, waitFor } from '../helpers/cluster.js';
import { containerEngine, docker, dockerOk, ensureBaseImages } from '../helpers/docker.js';
import { readRepoFile } from '../deploy/sources.js';

const engine = containerEngine();
if (!engine.available) console.log(`[containers] image run skipped: ${engine.reason}`);

/** The image name of the README's build and run lines (and docker-compose.yml's default). */
const IMAGE =
  /docker build -f deploy\/Dockerfile -t (\S+) \./.exec(readRepoFile('README.md'))?.[1] ?? 'missing-from-README';
const DOCKER_STOP_DEFAULT_GRACE_MS = 10_000;

describe.skipIf(!engine.available)(`docker run ${IMAGE} (the README's lines)`, () => {
  const suffix = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const network = `hapi-run-${suffix}`;
  const redisName = `hapi-run-redis-${suffix}`;
  let hubId = '';
  let url = '';
  let token = '';
  const sockets: Socket[] = [];

  beforeAll(async () => {
    ensureBaseImages();
    expect(readRepoFile('README.md')).toContain(
      `docker run --rm -p 3006:3006 -e REDIS_URL=redis://redis.example:6379 ${IMAGE}`,
    );
    expect(readRepoFile('docker-compose.yml')).toContain(`\${HAPI_IMAGE:-${IMAGE}}`);
    await dockerOk(['build', '-q', '-f', 'deploy/Dockerfile', '-t', IMAGE, '.'], { timeoutMs: 15 * 60_000 });
    await dockerOk(['network', 'create', network]);
    await dockerOk(['run', '-d', '--rm', '--network', network, '--name', redisName, 'redis:7.4']);
    await waitFor(
      'Redis container to answer PING',
      30_000,
      async () => (await docker(['exec', redisName, 'redis-cli', 'ping'])).stdout.trim() === 'PONG',
    );
    const port = await findFreePort();
    url = `http://127.0.0.1:${port}`;
    // The README's run line, published on loopback only and with a Redis reachable by name.
    hubId = (
      await dockerOk([
        'run',
        '-d',
        '--rm',
        '--network',
        network,
        '-p',
        `127.0.0.1:${port}:3006`,
        '-e',
        `REDIS_URL=redis://${redisName}:6379`,
        IMAGE,
      ])
    ).trim();
    await waitFor('the hub container to answer /ready', 60_000, async () => (await httpStatus(`${url}/ready`)) === 200);
    await waitFor('the generated CLI_API_TOKEN in the log', 15_000, async () =>
      /CLI_API_TOKEN \(generated/.test((await docker(['logs', hubId])).stdout),
    );
    token = /CLI_API_TOKEN \(generated, keep it safe\): (\S+)/.exec((await docker(['logs', hubId])).stdout)![1]!;
  }, 20 * 60_000);

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    // -v: the redis image declares VOLUME /data; its anonymous volume goes with the container.
    await docker(['rm', '-f', '-v', hubId, redisName].filter(Boolean));
    await docker(['network', 'rm', network]);
  }, 60_000);

  it('serves /health, passes its HEALTHCHECK and runs as 1000:1000', async () => {
    const health = (await (await fetch(`${url}/health`)).json()) as { status: string };
    expect(health.status).toBe('ok');
    await waitFor(
      'Docker to report the container healthy',
      60_000,
      async () => (await docker(['inspect', '-f', '{{.State.Health.Status}}', hubId])).stdout.trim() === 'healthy',
    );
    expect((await dockerOk(['exec', hubId, 'id', '-u'])).trim()).toBe('1000');
    expect((await dockerOk(['exec', hubId, 'id', '-g'])).trim()).toBe('1000');
  }, 90_000);

  it('docker stop (default grace): the hub drains its CLI sockets and exits 0 in time', async () => {
    const socket = await connectCli(url, { token, clientType: 'user-scoped' }, { timeoutMs: 15_000 });
    sockets.push(socket);
    const gone = disconnected(socket, DOCKER_STOP_DEFAULT_GRACE_MS + 5_000);
    // `docker wait` prints the exit code even though --rm removes the container afterwards.
    const waited = docker(['wait', hubId], { timeoutMs: 60_000 });
    const stopped = await docker(['stop', hubId], { timeoutMs: 60_000 });
    expect(stopped.code, stopped.stderr).toBe(0);
    expect((await waited).stdout.trim()).toBe('0');
    expect(stopped.durationMs).toBeLessThan(DOCKER_STOP_DEFAULT_GRACE_MS);
    expect(await gone).toBeTruthy();
    hubId = '';
  }, 90_000);
});
