// The cluster primary while its workers cannot start: new connections go to the worker that is
// ready, not to the one still starting (whose gate would hold them until it is ready, i.e. for as
// long as its Redis is unreachable); with no worker process at all (each replacement failed and
// the next waits out its backoff), a connection is answered 503. A real primary with
// two workers and a real redis-server: Redis is stopped and workers killed, so replacements
// cannot start.
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

/**
 * The status line of a raw GET; 'no answer' when none comes within `timeoutMs`, 'reset' when the
 * connection fails before one.
 */
function statusLine(port: number, path: string, timeoutMs = ANSWER_TIMEOUT_MS): Promise<string> {
  return new Promise((resolveAnswer) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolveAnswer('no answer');
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const end = text.indexOf('\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.destroy();
      resolveAnswer(text.slice(0, end));
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolveAnswer('reset');
    });
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

  it('answers 503 Service Unavailable while no worker process exists', async () => {
    const redis = await startRedisServer();
    const hub = await spawnHubProcess({ REDIS_URL: redis.url, HAPI_WORKERS: '2' });
    hubs.push(hub);
    const port = Number(new URL(hub.url).port);
    await waitFor('both workers', 60_000, () => workerPids(hub.pid).length === 2);
    await redis.stop();
    for (const pid of workerPids(hub.pid)) process.kill(pid, 'SIGKILL');
    // Each replacement fails to start and the next one waits out a growing backoff (up to 10 s):
    // a connection made in such a gap finds no worker. Connections made while a replacement is
    // starting are held by it (no answer within the probe's second, or reset when it exits).
    const answers = new Set<string>();
    await waitFor('a connection while no worker exists', 90_000, async () => {
      const answer = await statusLine(port, '/health', 1_000);
      answers.add(answer);
      return answer.startsWith('HTTP/');
    });
    expect([...answers].filter((answer) => answer.startsWith('HTTP/'))).toEqual(['HTTP/1.1 503 Service Unavailable']);
  }, 180_000);
});
