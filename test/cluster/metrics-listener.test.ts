// GET /metrics lives on the internal metrics listener (HAPI_METRICS_HOST:HAPI_METRICS_PORT) only:
// a real single-process hub and a real cluster host (primary + 2 worker processes on Redis, behind
// HAProxy) are scraped there, and the public port — direct and through the load balancer —
// answers 404 for /metrics.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectCli } from '../helpers/cli-client.js';
import { findFreePort, httpStatus, startCluster, waitFor, type TestCluster } from '../helpers/cluster.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const START_TIMEOUT_MS = 60_000;

const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

async function scrape(url: string): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

function gauge(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

interface HubProcess {
  child: ChildProcess;
  output(): string;
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function spawnHub(env: Record<string, string>): HubProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', HAPI_LISTEN_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { child, output: () => text };
}

async function startSingle(env: Record<string, string>): Promise<{ url: string; token: string; hub: HubProcess }> {
  const port = await findFreePort();
  const token = randomBytes(16).toString('base64url');
  // HAPI_ENGINE=memory: the default without REDIS_URL would be sqlite in ~/.hapi-hub.
  const hub = spawnHub({
    HAPI_ENGINE: 'memory',
    HAPI_WORKERS: '1',
    HAPI_LISTEN_PORT: String(port),
    CLI_API_TOKEN: token,
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('single hub /ready', START_TIMEOUT_MS, async () => {
    if (hub.child.exitCode !== null) throw new Error(`hub exited:\n${hub.output()}`);
    return (await httpStatus(`${url}/ready`)) === 200;
  });
  return { url, token, hub };
}

describe('single process', () => {
  it('serves /metrics on HAPI_METRICS_PORT only; the public port answers 404', async () => {
    const metricsPort = await findFreePort();
    const { url, token, hub } = await startSingle({ HAPI_METRICS_PORT: String(metricsPort) });
    const metricsUrl = `http://127.0.0.1:${metricsPort}`;

    sockets.push(await connectCli(url, { token }));
    const scraped = await scrape(`${metricsUrl}/metrics`);
    expect(scraped.status).toBe(200);
    expect(scraped.type).toMatch(/^text\/plain/);
    expect(gauge(scraped.text, 'hapi_cli_connections')).toBe(1);
    expect(scraped.text).toMatch(/^hapi_process_resident_memory_bytes \d+/m);

    const publicMetrics = await scrape(`${url}/metrics`);
    expect(publicMetrics.status).toBe(404);
    expect(publicMetrics.text).not.toContain('hapi_cli_connections');
    expect((await scrape(`${url}/metrics?format=prometheus`)).status).toBe(404);
    // The metrics listener answers nothing but /metrics.
    expect((await scrape(`${metricsUrl}/health`)).status).toBe(404);
    expect((await scrape(`${metricsUrl}/api/sessions`)).status).toBe(404);
    expect((await fetch(`${metricsUrl}/metrics`, { method: 'POST' })).status).toBe(405);
    expect(hub.output()).toMatch(new RegExp(`"host":"127\\.0\\.0\\.1","port":${metricsPort}.*metrics listening`));
    hub.child.kill('SIGTERM');
  }, 90_000);

  it('without HAPI_METRICS_PORT there is no metrics listener and the public port still answers 404', async () => {
    const { url, hub } = await startSingle({});
    expect((await scrape(`${url}/metrics`)).status).toBe(404);
    expect(hub.output()).not.toContain('metrics listening');
    hub.child.kill('SIGTERM');
  }, 90_000);

  it('refuses HAPI_METRICS_PORT equal to the public port, naming the variable', async () => {
    const port = await findFreePort();
    const hub = spawnHub({ HAPI_LISTEN_PORT: String(port), HAPI_METRICS_PORT: String(port), CLI_API_TOKEN: 'x' });
    const code = await new Promise<number | null>((done) => hub.child.once('exit', (c) => done(c)));
    expect(code).toBe(1);
    expect(hub.output()).toMatch(/HAPI_METRICS_PORT: \d+ is HAPI_LISTEN_PORT/);
  }, 60_000);
});

describe('cluster hosts (primary + 2 workers each, Redis, HAProxy)', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ hosts: 2, workersPerHost: 2 });
  }, 180_000);
  afterAll(async () => {
    await c?.stop();
  }, 60_000);

  it("the primary's listener serves the aggregate of both workers; public port and load balancer answer 404", async () => {
    const host = c.hosts[0]!;
    // least-connection hand-over: two sockets end up on the two workers.
    sockets.push(await connectCli(host.url, { token: c.token }), await connectCli(host.url, { token: c.token }));

    const scraped = await scrape(host.metricsUrl);
    expect(scraped.status).toBe(200);
    const perWorker = [...scraped.text.matchAll(/^hapi_worker_cli_sockets\{worker="([^"]+)"\} (\d+)$/gm)].map(
      (m) => [m[1], Number(m[2])] as const,
    );
    expect(perWorker).toHaveLength(2);
    expect(perWorker.map(([, n]) => n).sort()).toEqual([1, 1]);
    // Summed over the workers by the primary's aggregation.
    expect(gauge(scraped.text, 'hapi_cli_connections')).toBe(2);

    // Every worker answers the public port; ask often enough to reach both.
    for (let i = 0; i < 6; i++) expect((await scrape(`${host.url}/metrics`)).status).toBe(404);
    expect((await scrape(`${c.lbUrl}/metrics`)).status).toBe(404);
  }, 60_000);
});
