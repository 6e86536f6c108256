// The cluster primary while its workers cannot start: new connections go to the worker that is
// ready, not to the one still starting (whose gate would hold them until it is ready, i.e. for as
// long as its Redis is unreachable). With no worker able to serve, a connection is answered 503:
// when no worker process exists (each replacement failed and the next waits out its backoff), and
// when the starting worker that held it exits. A real primary with two workers and a real
// redis-server: Redis is stopped and workers killed, so replacements cannot start.
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/cluster.js';
import { childProcesses, type HubProcess, spawnHubProcess } from '../helpers/noisy-neighbour.js';
import { startRedisServer } from '../helpers/redis-server.js';

/** Far longer than a ready worker takes to answer /health; a held connection gets nothing. */
const ANSWER_TIMEOUT_MS = 10_000;

const hubs: HubProcess[] = [];
afterAll(async () => {
  for (const hub of hubs) await hub.stop();
});

/** The status line of a raw GET, or 'no answer' when none comes within ANSWER_TIMEOUT_MS. */
function statusLine(port: number, path: string): Promise<string> {
  return new Promise((resolveAnswer, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolveAnswer('no answer');
    }, ANSWER_TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const end = text.indexOf('\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.destroy();
      resolveAnswer(text.slice(0, end));
    });
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
  });
}

/** The primary's workers (tsx also runs an esbuild service under it). */
function workerPids(primaryPid: number): number[] {
  return childProcesses(primaryPid)
    .filter((child) => child.command !== 'esbuild')
    .map((child) => child.pid);
}

describe('cluster primary with a worker that cannot start', () => {
  it('hands new connections to the ready worker, each answered', async () => {
    const redis = await startRedisServer();
    const hub = await spawnHubProcess({ REDIS_URL: redis.url, HAPI_WORKERS: '2' });
    hubs.push(hub);
    const port = Number(new URL(hub.url).port);
    await waitFor('both workers', 60_000, () => workerPids(hub.pid).length === 2);
    const [victim, survivor] = workerPids(hub.pid) as [number, number];
    await redis.stop();
    process.kill(victim, 'SIGKILL');
    await waitFor('the replacement worker to be started', 30_000, () => {
      const pids = workerPids(hub.pid);
      return pids.length === 2 && !pids.includes(victim);
    });
    expect(workerPids(hub.pid)).toContain(survivor);
    // Each connection gets an answer from the ready worker (whatever /health says without
    // Redis); before, the starting worker, having no connections, took them and held them.
    for (let i = 0; i < 4; i += 1) expect(await statusLine(port, '/health')).toMatch(/^HTTP\/1\.1 \d{3} /);
  }, 180_000);

  it('answers 503 Service Unavailable while no worker can serve: none exists, or one is starting and fails', async () => {
    const redis = await startRedisServer();
    const hub = await spawnHubProcess({ REDIS_URL: redis.url, HAPI_WORKERS: '2', LOG_LEVEL: 'info' });
    hubs.push(hub);
    const port = Number(new URL(hub.url).port);
    const logged = (msg: string) => hub.output().split(`"msg":"${msg}`).length - 1;
    await waitFor('both workers', 60_000, () => workerPids(hub.pid).length === 2);
    await redis.stop();
    const diedBefore = logged('worker died');
    for (const pid of workerPids(hub.pid)) process.kill(pid, 'SIGKILL');
    // Until the primary has seen an exit, it may still hand a connection to the dead worker,
    // which loses it like any connection in flight to a process that crashes.
    await waitFor('the primary to see both workers die', 30_000, () => logged('worker died') >= diedBefore + 2);
    // Each replacement fails to start (Redis refuses it within about a second) and the next one
    // waits out a growing backoff: a connection then finds no worker, or one still starting that
    // holds it until it fails. Either way it is answered 503.
    expect(await statusLine(port, '/health')).toBe('HTTP/1.1 503 Service Unavailable');
    const startedBefore = logged('worker started');
    await waitFor('a replacement worker to start', 30_000, () => logged('worker started') > startedBefore);
    expect(await statusLine(port, '/health')).toBe('HTTP/1.1 503 Service Unavailable');
  }, 180_000);
});
