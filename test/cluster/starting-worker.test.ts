// The cluster primary while one of its workers cannot start: new connections go to the worker
// that is ready, not to the one still starting (whose gate would hold them until it is ready,
// i.e. for as long as its Redis is unreachable). A real primary with two workers and a real
// redis-server: Redis is stopped and one worker killed, so its replacement cannot start.
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
});
