// The cluster primary while one of its workers cannot start: new connections go to the worker
// that is ready, not to the one still starting (whose gate would hold them until it is ready,
// i.e. for as long as its Redis is unreachable). A real primary with two workers and a real
// redis-server: Redis is stopped and one worker killed, so its replacement cannot start.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findFreePort, httpStatus, waitFor } from '../helpers/cluster.js';
import { startRedisServer } from '../helpers/redis-server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Far longer than a ready worker takes to answer /health; a held connection gets nothing. */
const ANSWER_TIMEOUT_MS = 10_000;

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) killHub(child);
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

function workerPids(primaryPid: number): number[] {
  try {
    // Workers only: tsx also runs an esbuild service under the primary.
    return execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(primaryPid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter(([, command]) => command !== undefined && command !== 'esbuild')
      .map(([pid]) => Number(pid));
  } catch {
    return []; // ps exits 1 when there is no such process
  }
}

function killHub(hub: ChildProcess): void {
  if (hub.pid === undefined || hub.exitCode !== null || hub.signalCode !== null) return;
  for (const pid of workerPids(hub.pid)) process.kill(pid, 'SIGKILL');
  hub.kill('SIGKILL');
}

describe('cluster primary with a worker that cannot start', () => {
  it('hands new connections to the ready worker, each answered', async () => {
    const redis = await startRedisServer();
    const port = await findFreePort();
    const hub = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LOG_LEVEL: 'warn',
        HAPI_LISTEN_HOST: '127.0.0.1',
        HAPI_LISTEN_PORT: String(port),
        HAPI_WORKERS: '2',
        REDIS_URL: redis.url,
        CLI_API_TOKEN: randomBytes(16).toString('base64url'),
      },
      stdio: 'ignore',
    });
    children.push(hub);
    try {
      const primaryPid = hub.pid as number;
      await waitFor('both workers', 60_000, async () => {
        const ready = (await httpStatus(`http://127.0.0.1:${port}/ready`)) === 200;
        return ready && workerPids(primaryPid).length === 2;
      });
      const [victim, survivor] = workerPids(primaryPid) as [number, number];
      await redis.stop();
      process.kill(victim, 'SIGKILL');
      await waitFor('the replacement worker to be started', 30_000, () => {
        const pids = workerPids(primaryPid);
        return pids.length === 2 && !pids.includes(victim);
      });
      expect(workerPids(primaryPid)).toContain(survivor);
      // Each connection gets an answer from the ready worker (whatever /health says without
      // Redis); before, the starting worker, having no connections, took them and held them.
      for (let i = 0; i < 4; i += 1) expect(await statusLine(port, '/health')).toMatch(/^HTTP\/1\.1 \d{3} /);
    } finally {
      killHub(hub);
    }
  }, 180_000);
});
