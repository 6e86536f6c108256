// `npm run bench:restart`: how long a persistent hub takes to come back with a full history.
// Fills a hub with N messages over the real CLI path (POST /cli/sessions, session-scoped /cli
// sockets, `message` emits), stops it (SIGTERM, and once with SIGKILL), and times a fresh start
// on the same data: spawn → GET /health 200 → the first web messages page answered
// (POST /api/auth, GET /api/sessions/:id/messages?limit=50). Targets: ours on sqlite, and the
// upstream hub (Bun + SQLite) for comparison.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import { z } from 'zod';
import { requestJson } from '../http.js';
import { freePort, httpOk, spawnChild, waitUntil, type Child } from './processes.js';
import { ensureUpstream, NO_NETWORK_ENV, prepareOurs, upstreamHubEnv, type OursEntry } from './targets.js';

export const RESTART_TARGETS = ['sqlite', 'upstream'] as const;
export type RestartTarget = (typeof RESTART_TARGETS)[number];

export const RestartOptionsSchema = z.object({
  targets: z
    .string()
    .default(RESTART_TARGETS.join(','))
    .transform((v) => v.split(',').map((s) => s.trim()))
    .pipe(z.array(z.enum(RESTART_TARGETS)).min(1)),
  messages: z.coerce.number().int().min(100).max(10_000_000).default(100_000),
  sessions: z.coerce.number().int().min(1).max(1_000).default(10),
  restarts: z.coerce.number().int().min(1).max(20).default(3),
});
export type RestartOptions = z.infer<typeof RestartOptionsSchema>;

interface Launch {
  /** Starts the target on `home` (its data dir) with `token`; the same home is a restart. */
  spawn(home: string, port: number, token: string): Child;
}

function oursSqlite(ours: OursEntry, repoRoot: string, baseEnv: NodeJS.ProcessEnv): Launch {
  return {
    spawn: (home, port, token) =>
      spawnChild(process.execPath, [...ours.args, 'serve'], {
        cwd: repoRoot,
        logFile: join(home, 'hub.log'),
        env: {
          PATH: baseEnv.PATH ?? '/usr/bin:/bin',
          HOME: home,
          HAPI_ENGINE: 'sqlite',
          HAPI_DATA_DIR: join(home, 'data'),
          CLI_API_TOKEN: token,
          HAPI_LISTEN_HOST: '127.0.0.1',
          HAPI_LISTEN_PORT: String(port),
          LOG_LEVEL: 'warn',
          HAPI_DRAIN_TIMEOUT_MS: '3000',
          ...NO_NETWORK_ENV,
        },
      }),
  };
}

function upstream(bin: string): Launch {
  return {
    spawn: (home, port, token) =>
      spawnChild(bin, ['hub'], { cwd: home, logFile: join(home, 'hub.log'), env: upstreamHubEnv(home, port, token) }),
  };
}

const SessionCreated = z.object({ session: z.object({ id: z.string() }) });
const Page = z.object({ messages: z.array(z.object({ seq: z.number() })) });
const Auth = z.object({ token: z.string() });

/** Number of messages the hub holds for `sid` (the last seq; messages are only appended here). */
async function storedCount(url: string, token: string, sid: string, atLeast: number): Promise<boolean> {
  const res = await requestJson(
    'GET',
    `${url}/cli/sessions/${encodeURIComponent(sid)}/messages?afterSeq=${atLeast - 1}&limit=1`,
    { bearer: token, timeoutMs: 30_000 },
  );
  const page = Page.safeParse(res.body);
  return res.status === 200 && page.success && page.data.messages.length === 1;
}

function connect(url: string, token: string, sid: string): Promise<Socket> {
  const socket = io(`${url}/cli`, {
    path: '/socket.io/',
    forceNew: true,
    reconnection: false,
    transports: ['websocket'],
    timeout: 60_000,
    auth: { token, clientType: 'session-scoped', sessionId: sid },
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** N messages spread over the sessions, in chunks the hub confirms before the next is sent. */
async function fill(
  url: string,
  token: string,
  opts: RestartOptions,
  log: (line: string) => void,
  hub: Child,
): Promise<string[]> {
  const sids: string[] = [];
  for (let i = 0; i < opts.sessions; i++) {
    const res = await requestJson('POST', `${url}/cli/sessions`, {
      bearer: token,
      timeoutMs: 30_000,
      body: { tag: `restart-${i}`, metadata: { path: `/tmp/restart/${i}`, host: 'bench' }, agentState: null },
    });
    const parsed = SessionCreated.safeParse(res.body);
    if (res.status !== 200 || !parsed.success) throw new Error(`POST /cli/sessions answered ${res.status}`);
    sids.push(parsed.data.session.id);
  }
  const perSession = Math.ceil(opts.messages / opts.sessions);
  // Small chunks: node:sqlite is synchronous, so a burst the hub reads at once is written (one
  // fsync per message) without yielding, and a long one starves the Socket.IO pings.
  const chunk = 50;
  const pad = 'x'.repeat(200);
  // Every socket connects before any sends: the fill must not starve the handshakes.
  const sockets: Socket[] = [];
  for (const sid of sids) sockets.push(await connect(url, token, sid));
  const started = performance.now();
  await Promise.all(
    sids.map(async (sid, i) => {
      const socket = sockets[i] as Socket;
      let dropped: string | null = null;
      socket.on('disconnect', (reason) => (dropped = reason));
      try {
        for (let sent = 0; sent < perSession; ) {
          const upTo = Math.min(perSession, sent + chunk);
          for (; sent < upTo; sent++)
            socket.emit('message', {
              sid,
              message: { role: 'agent', content: { type: 'output', data: { i: sent, pad } } },
            });
          if (!(await waitUntil(() => storedCount(url, token, sid, upTo), null, 120_000)))
            throw new Error(
              `the hub did not store ${upTo} messages of ${sid} (socket ${dropped ? `dropped: ${dropped}` : 'connected'}):\n${hub.tail()}`,
            );
        }
      } finally {
        socket.close();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  log(
    `filled ${perSession * opts.sessions} messages in ${seconds.toFixed(1)} s (${Math.round((perSession * opts.sessions) / seconds)} msg/s)`,
  );
  return sids;
}

export interface RestartSample {
  target: RestartTarget;
  after: 'SIGTERM' | 'SIGKILL';
  healthMs: number;
  firstPageMs: number;
  loadAverage: number[];
}

/** spawn → /health 200 → first web messages page of `sid`. */
async function timeStart(
  launch: Launch,
  home: string,
  token: string,
  sid: string,
): Promise<{ child: Child; url: string; healthMs: number; firstPageMs: number }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const child = launch.spawn(home, port, token);
  for (;;) {
    if (child.exited()) throw new Error(`hub exited during start:\n${child.tail()}`);
    if (await httpOk(`${url}/health`).catch(() => false)) break;
    if (performance.now() - t0 > 120_000) throw new Error(`no /health within 120 s:\n${child.tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const healthMs = performance.now() - t0;
  const auth = await requestJson('POST', `${url}/api/auth`, { body: { accessToken: token }, timeoutMs: 30_000 });
  const jwt = Auth.safeParse(auth.body);
  if (!jwt.success) throw new Error(`POST /api/auth answered ${auth.status}`);
  const page = await requestJson('GET', `${url}/api/sessions/${encodeURIComponent(sid)}/messages?limit=50`, {
    bearer: jwt.data.token,
    timeoutMs: 60_000,
  });
  const parsed = Page.safeParse(page.body);
  if (page.status !== 200 || !parsed.success || parsed.data.messages.length !== 50)
    throw new Error(`first messages page answered ${page.status} ${JSON.stringify(page.body).slice(0, 200)}`);
  return { child, url, healthMs, firstPageMs: performance.now() - t0 };
}

/** Bytes of the SQLite files under `dir` (database + WAL; upstream's HAPI_HOME holds other things too). */
function databaseBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile() && /\.db(-wal)?$/.test(entry.name)) total += statSync(join(entry.parentPath, entry.name)).size;
  return total;
}

export async function runRestartBench(
  opts: RestartOptions,
  env: { repoRoot: string; baseEnv: NodeJS.ProcessEnv; log(line: string): void },
): Promise<RestartSample[]> {
  const workDir = mkdtempSync(join(tmpdir(), 'hapi-restart-'));
  const samples: RestartSample[] = [];
  // Every hub spawned, so a failure midway still stops them all.
  const children: Child[] = [];
  const tracked = (inner: Launch): Launch => ({
    spawn: (home, port, token) => {
      const child = inner.spawn(home, port, token);
      children.push(child);
      return child;
    },
  });
  try {
    for (const target of opts.targets) {
      let launch: Launch;
      if (target === 'sqlite')
        launch = tracked(oursSqlite(prepareOurs(env.repoRoot, env.log), env.repoRoot, env.baseEnv));
      else {
        const found = ensureUpstream(env.repoRoot, env.log);
        if (found.bin === null) {
          env.log(`upstream skipped: ${found.reason}`);
          continue;
        }
        launch = tracked(upstream(found.bin));
      }
      const home = mkdtempSync(join(workDir, `${target}-`));
      const token = randomBytes(24).toString('base64url');
      const port = await freePort();
      const filling = launch.spawn(home, port, token);
      const url = `http://127.0.0.1:${port}`;
      if (!(await waitUntil(() => httpOk(`${url}/health`), filling, 60_000)))
        throw new Error(`${target} did not start:\n${filling.tail()}`);
      env.log(`${target}: filling ${opts.messages} messages …`);
      const sids = await fill(url, token, opts, env.log, filling);
      await filling.stop(30_000);
      env.log(`${target}: database files ${(databaseBytes(home) / 1024 ** 2).toFixed(1)} MiB`);
      const record = (after: RestartSample['after'], run: { healthMs: number; firstPageMs: number }): void => {
        const sample: RestartSample = {
          target,
          after,
          healthMs: Math.round(run.healthMs),
          firstPageMs: Math.round(run.firstPageMs),
          loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
        };
        samples.push(sample);
        env.log(
          `${target} restart after ${after}: /health ${sample.healthMs} ms, first page ${sample.firstPageMs} ms (load ${sample.loadAverage[0]})`,
        );
      };
      for (let i = 0; i < opts.restarts; i++) {
        const run = await timeStart(launch, home, token, sids[i % sids.length] ?? '');
        record('SIGTERM', run);
        await run.child.stop(30_000);
      }
      // Once more after kill -9 mid-life: the WAL is recovered at open.
      const doomed = await timeStart(launch, home, token, sids[0] ?? '');
      process.kill(-doomed.child.pid, 'SIGKILL');
      await waitUntil(async () => doomed.child.exited(), null, 30_000);
      const recovered = await timeStart(launch, home, token, sids[0] ?? '');
      record('SIGKILL', recovered);
      await recovered.child.stop(30_000);
      rmSync(home, { recursive: true, force: true });
    }
  } finally {
    await Promise.all(children.filter((child) => !child.exited()).map((child) => child.stop(10_000)));
    rmSync(workDir, { recursive: true, force: true });
  }
  return samples;
}
