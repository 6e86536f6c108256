// Shared pieces of the interop suites: an in-process hub on the system clock with its sweeper
// running (the real CLI keeps real time), a web client (JWT from POST /api/auth) and an SSE
// recorder for GET /api/events (on top of helpers/sse-client.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../src/services/clock.js';
import { startTestHub, type TestHub, type TestHubOptions } from '../helpers/hub.js';
import { CliTraffic, type HapiProcess, type HapiProcesses, pollUntil } from '../helpers/hapi-cli.js';
import { randomToken } from '../helpers/hub.js';
import { openSse, type SseClient, type SseEvent } from '../helpers/sse-client.js';

export interface InteropHub extends TestHub {
  traffic: CliTraffic;
}

/** A real hub (memory engine) on the wall clock with the presence sweeper running. */
export async function startInteropHub(options: TestHubOptions = {}): Promise<InteropHub> {
  const hub = await startTestHub({ clock: systemClock, startSweeper: true, sweepIntervalMs: 250, ...options });
  return Object.assign(hub, { traffic: new CliTraffic(hub.hub.io) });
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface HubProcess {
  url: string;
  port: number;
  token: string;
  tokenFor(namespace: string): string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM (drain) and wait for the exit; SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<number | null>;
}

/**
 * The hub as an operator runs it: `node --import tsx src/main.ts serve` (memory engine unless
 * REDIS_URL or HAPI_ENGINE is given: a throw-away hub never writes to ~/.hapi-hub), on a free
 * loopback port, configured through the environment.
 */
export async function startHubProcess(env: Record<string, string> = {}): Promise<HubProcess> {
  const token = env.CLI_API_TOKEN ?? randomToken();
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'main.ts'), 'serve'], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      CLI_API_TOKEN: token,
      HAPI_LISTEN_HOST: '127.0.0.1',
      HAPI_LISTEN_PORT: '0',
      LOG_LEVEL: 'info',
      ...(env.REDIS_URL || env.HAPI_ENGINE ? {} : { HAPI_ENGINE: 'memory' }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const port = await pollUntil(
    () => {
      if (exitCode !== undefined) return -1;
      const line = out.split('\n').find((l) => l.includes('"hub listening"'));
      return line ? (JSON.parse(line) as { port: number }).port : undefined;
    },
    'hub process listening',
    30_000,
    50,
  );
  if (port === -1) throw new Error(`hub exited (${exitCode}) before listening:\n${out}`);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    token,
    tokenFor: (ns) => `${token}:${ns}`,
    child,
    output: () => out,
    async stop(timeoutMs = 15_000) {
      if (exitCode !== undefined) return exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

export interface JsonResponse<T = any> {
  status: number;
  body: T;
}

/** The web plane as a browser would use it, authenticated with a namespace's JWT. */
export class WebClient {
  private constructor(
    readonly baseUrl: string,
    readonly jwt: string,
  ) {}

  /** POST /api/auth {accessToken} → JWT (asserts 200). */
  static async login(baseUrl: string, accessToken: string): Promise<WebClient> {
    const res = await fetch(`${baseUrl}/api/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accessToken }),
    });
    const body = (await res.json()) as { token?: string };
    if (res.status !== 200 || typeof body.token !== 'string') {
      throw new Error(`POST /api/auth answered ${res.status} ${JSON.stringify(body)}`);
    }
    return new WebClient(baseUrl, body.token);
  }

  async request<T = any>(method: string, path: string, body?: unknown): Promise<JsonResponse<T>> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.jwt}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // keep the text: a non-JSON answer is itself a finding
    }
    return { status: res.status, body: parsed as T };
  }

  get<T = any>(path: string) {
    return this.request<T>('GET', path);
  }

  post<T = any>(path: string, body: unknown = {}) {
    return this.request<T>('POST', path, body);
  }

  async machines(): Promise<any[]> {
    const res = await this.get<{ machines: any[] }>('/api/machines');
    if (res.status !== 200) throw new Error(`GET /api/machines answered ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.machines;
  }

  async machine(id: string): Promise<any | undefined> {
    return (await this.machines()).find((m) => m.id === id);
  }

  async sessions(): Promise<any[]> {
    const res = await this.get<{ sessions: any[] }>('/api/sessions');
    if (res.status !== 200) throw new Error(`GET /api/sessions answered ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.sessions;
  }

  async session(id: string): Promise<any> {
    const res = await this.get<{ session: any }>(`/api/sessions/${id}`);
    if (res.status !== 200)
      throw new Error(`GET /api/sessions/${id} answered ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.session;
  }

  /** Opens GET /api/events with this client's JWT. */
  events(query: Record<string, string> = { all: 'true' }): Promise<SseRecorder> {
    return SseRecorder.open(this.baseUrl, this.jwt, query);
  }
}

/**
 * A GET /api/events stream (helpers/sse-client.ts) queried by content rather than consumed in
 * order: the interop tests look for "an event like this arrived" among everything received.
 */
export class SseRecorder {
  private constructor(readonly client: SseClient) {}

  static async open(baseUrl: string, jwt: string, query: Record<string, string>): Promise<SseRecorder> {
    // Token in the query and visibility, as the web app connects.
    const client = await openSse(baseUrl, {
      token: jwt,
      tokenInQuery: true,
      query: { visibility: 'visible', ...query },
    });
    if (client.status !== 200)
      throw new Error(`GET /api/events answered ${client.status} ${JSON.stringify(client.body)}`);
    const recorder = new SseRecorder(client);
    await pollUntil(() => recorder.of('connection-changed').length > 0, 'SSE connection-changed', 10_000, 20);
    return recorder;
  }

  /** Every event received so far. */
  get events(): SseEvent[] {
    return this.client.frames.map((f) => f.event);
  }

  /** Received events of `type` (optionally matching `filter`). */
  of(type: string, filter: (event: any) => boolean = () => true): any[] {
    return this.events.filter((e) => e.type === type && filter(e));
  }

  waitFor(type: string, filter: (event: any) => boolean = () => true, timeoutMs = 20_000): Promise<any> {
    return pollUntil(() => this.of(type, filter)[0], `SSE ${type}`, timeoutMs, 25);
  }

  close(): void {
    this.client.close();
  }
}

/** Prints one line saying why a suite is skipped (vitest only shows "skipped"). */
export function announceSkip(suite: string, reason: string | undefined): void {
  if (reason) console.warn(`[interop] ${suite} SKIPPED: ${reason}`);
}

/**
 * A real runner (`hapi runner start-sync`) in `namespace` with the stand-in agents on its PATH,
 * waited for until the web API shows it running; `env` reaches the runner and its agents.
 */
export async function startStandInRunner(
  procs: HapiProcesses,
  hub: InteropHub,
  namespace: string,
  workspace: string,
  env: Record<string, string> = {},
): Promise<{ runner: HapiProcess; machineId: string; web: WebClient }> {
  const runner = procs.spawn(['runner', 'start-sync', '--workspace-root', workspace], {
    hubUrl: hub.url,
    token: hub.tokenFor(namespace),
    pathPrepend: [procs.fakeBin],
    env,
  });
  const machineId = (await runner.waitForOutput(/Machine ID:\s+(\S+)/))[1]!;
  const web = await WebClient.login(hub.url, hub.tokenFor(namespace));
  await pollUntil(async () => (await web.machine(machineId))?.runnerState?.status === 'running', 'runner online');
  return { runner, machineId, web };
}
