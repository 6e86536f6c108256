// The noisy-neighbour scenario (issue 16), shared by test/cluster/noisy-neighbour.test.ts and
// `npx tsx scripts/noisy-neighbour.ts` (figures before/after limits): a real hub process (memory
// engine, or Redis with N workers), tenant B measured alone and then while tenant A floods
// messages as fast as its sockets can (a window of acks in flight per socket, no pause when
// refused), and an audit of every write A made against the REST pages.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setPriority } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'socket.io-client';
import { cliRest, connectCli, type CliRest } from './cli-client.js';
import { findFreePort, httpStatus, waitFor } from './cluster.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface HubProcess {
  url: string;
  token: string;
  pid: number;
  /** RSS of the hub: the process and its cluster workers (bytes). */
  rssBytes(): number;
  output(): string;
  stop(): Promise<void>;
}

/** `hapi-hub serve` as a real process (its own process group) with `env` on top of the defaults. */
export async function spawnHubProcess(env: Record<string, string>): Promise<HubProcess> {
  const port = await findFreePort();
  const token = randomBytes(16).toString('base64url');
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: 'warn',
      HAPI_LISTEN_HOST: '127.0.0.1',
      HAPI_LISTEN_PORT: String(port),
      CLI_API_TOKEN: token,
      // Without REDIS_URL the default engine would be sqlite in ~/.hapi-hub.
      ...(env.REDIS_URL ? {} : { HAPI_ENGINE: 'memory' }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let text = '';
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor('the hub to be ready', 90_000, async () => {
    if (child.exitCode !== null) throw new Error(`hub exited:\n${text}`);
    return (await httpStatus(`${url}/ready`)) === 200;
  });
  const pid = child.pid ?? 0;
  return {
    url,
    token,
    pid,
    rssBytes: () => processTreeRss(pid),
    output: () => text,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }
      await exited;
    },
  };
}

/** VmRSS of `pid` and its direct children (the cluster workers), from /proc. */
export function processTreeRss(pid: number): number {
  const rssOf = (p: number): number => {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      return match?.[1] ? Number(match[1]) * 1024 : 0;
    } catch {
      return 0;
    }
  };
  return childProcesses(pid).reduce((total, child) => total + rssOf(child.pid), rssOf(pid));
}

/** The direct children of `pid` and their command names (`comm`), from /proc. */
export function childProcesses(pid: number): { pid: number; command: string }[] {
  const children: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid)
        children.push({ pid: Number(entry), command: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) });
    } catch {
      // the process ended while we looked
    }
  }
  return children;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export interface LatencySample {
  healthMs: number[];
  roundTripMs: number[];
}

export interface Summary {
  healthP50: number;
  healthP99: number;
  roundTripP50: number;
  roundTripP99: number;
  samples: number;
}

export function summarise(sample: LatencySample): Summary {
  return {
    healthP50: percentile(sample.healthMs, 50),
    healthP99: percentile(sample.healthMs, 99),
    roundTripP50: percentile(sample.roundTripMs, 50),
    roundTripP99: percentile(sample.roundTripMs, 99),
    samples: sample.roundTripMs.length,
  };
}

/** Tenant B: a CLI socket in its session and one /health probe, each paced every `intervalMs`. */
export interface TenantB {
  measure(count: number, intervalMs: number): Promise<LatencySample>;
  close(): void;
}

export async function openTenantB(hub: HubProcess, ns: string): Promise<TenantB> {
  const token = `${hub.token}:${ns}`;
  const rest = cliRest(hub.url, token);
  const session = await createSessionFor(rest, 'b-session');
  const socket = await connectCli(hub.url, { token, sessionId: session }, { timeoutMs: 30_000 });
  let n = 0;
  const roundTrip = async (): Promise<number> => {
    const started = performance.now();
    await new Promise<void>((done, fail) => {
      socket
        .timeout(30_000)
        .emit(
          'message',
          { sid: session, message: { role: 'agent', content: `b${n++}` } },
          (error: Error | null, ack: { result?: string }) => {
            if (error) fail(error);
            else if (ack?.result !== 'ok') fail(new Error(`tenant B was refused: ${JSON.stringify(ack)}`));
            else done();
          },
        );
    });
    return performance.now() - started;
  };
  const health = async (): Promise<number> => {
    const started = performance.now();
    const response = await fetch(`${hub.url}/health`);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`/health answered ${response.status}`);
    return performance.now() - started;
  };
  return {
    async measure(count, intervalMs) {
      const sample: LatencySample = { healthMs: [], roundTripMs: [] };
      for (let i = 0; i < count; i += 1) {
        const tick = performance.now();
        const [h, r] = await Promise.all([health(), roundTrip()]);
        sample.healthMs.push(h);
        sample.roundTripMs.push(r);
        const rest = intervalMs - (performance.now() - tick);
        if (rest > 0) await new Promise((done) => setTimeout(done, rest));
      }
      return sample;
    },
    close: () => socket.close(),
  };
}

async function createSessionFor(rest: CliRest, tag: string): Promise<string> {
  const created = await rest.createSession({ tag, metadata: { path: '/w', host: 'noisy' }, agentState: null });
  if (created.status !== 200) throw new Error(`session create: ${created.status} ${JSON.stringify(created.body)}`);
  return (created.body as { session: { id: string } }).session.id;
}

export interface FloodTally {
  sent: number;
  ok: string[];
  refused: Record<string, number>;
  /** Writes whose ack never came (the socket was cut): must be checked against the store. */
  unanswered: string[];
  retryAfterSeen: boolean;
  sessionId: string;
  /** Times a socket was cut (or dropped) and the flooder connected again. */
  reconnects: number;
}

export interface Flood {
  /** Resolves at the first refusal: from then on A is being limited. */
  readonly limited: Promise<void>;
  /** Resolves once every socket has stopped and every outstanding ack is settled. */
  stop(): Promise<FloodTally>;
}

/** Tenant A: `sockets` CLI sockets each keeping `window` message acks in flight, as fast as acks come. */
export async function startFlood(
  hub: HubProcess,
  ns: string,
  options: { sockets: number; window: number; messageBytes: number; maxMessages?: number },
): Promise<Flood> {
  const token = `${hub.token}:${ns}`;
  const rest = cliRest(hub.url, token);
  const sessionId = await createSessionFor(rest, `a-session-${randomBytes(6).toString('hex')}`);
  const payload = 'x'.repeat(options.messageBytes);
  const tally: FloodTally = {
    sent: 0,
    ok: [],
    refused: {},
    unanswered: [],
    retryAfterSeen: false,
    sessionId,
    reconnects: 0,
  };
  let stopping = false;
  let onLimited: () => void = () => undefined;
  const limited = new Promise<void>((done) => (onLimited = done));
  const open = new Set<Socket>();
  /** One socket's life: keep `window` writes in flight until stopped or cut. */
  const pumpSocket = async (socket: Socket, s: number, start: number): Promise<number> => {
    let next = start;
    const inFlight = new Set<Promise<void>>();
    const one = (localId: string): Promise<void> =>
      new Promise<void>((done) => {
        tally.sent += 1;
        socket
          .timeout(60_000)
          .emit(
            'message',
            { sid: sessionId, localId, message: { role: 'agent', content: { type: 'output', data: payload } } },
            (error: Error | null, ack: { result?: string; limit?: string; retryAfterMs?: number }) => {
              if (error) tally.unanswered.push(localId);
              else if (ack?.result === 'ok') tally.ok.push(localId);
              else {
                const key = `${ack?.result}:${ack?.limit ?? JSON.stringify(ack)}`;
                tally.refused[key] = (tally.refused[key] ?? 0) + 1;
                if (typeof ack?.retryAfterMs === 'number') tally.retryAfterSeen = true;
                onLimited();
              }
              done();
            },
          );
      });
    const more = () =>
      !stopping && socket.connected && (options.maxMessages === undefined || tally.sent < options.maxMessages);
    while (more()) {
      while (inFlight.size < options.window && more()) {
        const p = one(`a${s}-${next++}`);
        inFlight.add(p);
        void p.then(() => inFlight.delete(p));
      }
      if (inFlight.size > 0) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    return next;
  };
  const reconnects = { count: 0 };
  const pumps = Array.from({ length: options.sockets }, async (_, s) => {
    let next = 0;
    while (!stopping && (options.maxMessages === undefined || tally.sent < options.maxMessages)) {
      let socket: Socket;
      try {
        socket = await connectCli(hub.url, { token, sessionId }, { timeoutMs: 30_000 });
      } catch {
        continue; // refused (e.g. over the connection limit): try again, as a flooder would
      }
      open.add(socket);
      next = await pumpSocket(socket, s, next);
      socket.close();
      open.delete(socket);
      if (!stopping) reconnects.count += 1;
    }
  });
  const finished = Promise.all(pumps);
  return {
    limited,
    async stop() {
      stopping = true;
      await finished;
      for (const socket of open) socket.close();
      tally.reconnects = reconnects.count;
      return tally;
    },
  };
}

/** Every stored message of the session, by REST pages (`afterSeq`, 200 a page). */
export async function storedLocalIds(
  hub: HubProcess,
  ns: string,
  sessionId: string,
): Promise<{ localIds: string[]; seqs: number[] }> {
  const rest = cliRest(hub.url, `${hub.token}:${ns}`);
  const localIds: string[] = [];
  const seqs: number[] = [];
  for (let after = 0; ; ) {
    const page = await rest.getMessages<{ messages: { seq: number; localId: string | null }[] }>(sessionId, {
      afterSeq: after,
      limit: 200,
    });
    if (page.status !== 200) throw new Error(`messages page: ${page.status}`);
    for (const m of page.body.messages) {
      seqs.push(m.seq);
      if (m.localId !== null) localIds.push(m.localId);
    }
    const last = page.body.messages.at(-1);
    if (!last || page.body.messages.length < 200) return { localIds, seqs };
    after = last.seq;
  }
}

/** startFlood in a child process (test/helpers/noisy-flood-process.ts), with the same interface. */
export async function startFloodProcess(
  hub: HubProcess,
  ns: string,
  options: Parameters<typeof startFlood>[2],
): Promise<Flood> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/helpers/noisy-flood-process.ts',
      JSON.stringify({ url: hub.url, token: hub.token, ns, options }),
    ],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  // A's client would run on A's own machine; here it shares two cores with the hub and with B's
  // client, and its own CPU (tens of thousands of frames built and parsed) would be charged to B's
  // latency. The lowest priority keeps it flooding with whatever CPU the others leave.
  if (child.pid !== undefined) setPriority(child.pid, 19);
  let buffer = '';
  const waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      for (const waiter of [...waiters])
        if (waiter.match(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
    }
  });
  const exited = new Promise<never>((_, fail) =>
    child.once('exit', (code) => fail(new Error(`flood process exited (${code})`))),
  );
  const lineMatching = (match: (line: string) => boolean) =>
    Promise.race([new Promise<string>((resolveLine) => waiters.push({ match, resolve: resolveLine })), exited]);
  const limitedLine = lineMatching((line) => line === 'limited');
  await lineMatching((line) => line === 'started');
  return {
    limited: limitedLine.then(() => undefined),
    async stop() {
      const tallyLine = lineMatching((line) => line.startsWith('{'));
      child.stdin?.write('stop\n');
      return JSON.parse(await tallyLine) as FloodTally;
    },
  };
}
