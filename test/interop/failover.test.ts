// Interop, cluster: the real runner (and a real `hapi claude` session it spawned) connected
// through HAProxy to two hub hosts (Redis engine, 2 workers each). kill -9 of the host holding the
// runner's socket: the runner reconnects through HAProxy to the surviving host by itself,
// re-registers its RPC handlers, and machine RPCs work again; the machine is never listed twice
// and every one of its RPC methods ends up routed to the one new socket. Then the killed host is
// restarted and the other one killed, so both the runner and the session socket fail over, with a
// prompt sent while they were reconnecting; finally a graceful drain (SIGTERM) moves them back.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisEngine } from '../../src/engine/redis/engine.js';
import type { Engine } from '../../src/engine/engine.js';
import { startCluster, type HubHost, type TestCluster } from '../helpers/cluster.js';
import { ensureHapiCli, HapiProcesses, pollUntil, type HapiProcess } from '../helpers/hapi-cli.js';
import { announceSkip, WebClient } from './support.js';

const cli = await ensureHapiCli();
const missingTools = ['haproxy', 'redis-server'].filter(
  (bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0,
);
const skipReason = cli.reason ?? (missingTools.length > 0 ? `${missingTools.join(' and ')} not installed` : undefined);
announceSkip('failover interop', skipReason);

const NS = 'failover';

async function cliConnections(host: HubHost): Promise<number> {
  const res = await fetch(host.metricsUrl, { signal: AbortSignal.timeout(3_000) });
  const text = await res.text();
  const match = /^hapi_cli_connections(?:\{[^}]*\})?\s+(\d+(?:\.\d+)?)/m.exec(text);
  return match ? Number(match[1]) : 0;
}

describe.skipIf(skipReason !== undefined)('runner failover through HAProxy (2 hosts × 2 workers, Redis)', () => {
  let c: TestCluster;
  let procs: HapiProcesses;
  let engine: Engine;
  let runner: HapiProcess;
  let machineId: string;
  let workspace: string;
  let fakeLog: string;
  let sid: string;
  let web: WebClient;
  /** GET /api/machines samples taken in the background for the whole test: max entries for our id. */
  let maxListed = 0;
  let sampling = true;
  let sampler: Promise<void> | undefined;
  let runnerHost: HubHost;

  beforeAll(async () => {
    c = await startCluster({ hosts: 2, workersPerHost: 2, env: { LOG_LEVEL: 'warn', HAPI_RPC_TIMEOUT_MS: '8000' } });
    engine = await createRedisEngine(c.redisUrl, {
      eventLogMaxEvents: 1024,
      eventLogMaxBytes: 8 * 1024 * 1024,
      messageHistoryLimit: 0,
    });
    procs = new HapiProcesses(cli.bin!);
    workspace = procs.tempDir('ws');
    fakeLog = join(procs.tempDir('logs'), 'fake-claude.log');
    web = await WebClient.login(c.lbUrl, `${c.token}:${NS}`);
  }, 180_000);

  afterAll(async () => {
    sampling = false;
    await sampler;
    await procs?.cleanup();
    await engine?.close();
    await c?.stop();
  }, 90_000);

  it('runner and session connect through the load balancer', async () => {
    runner = procs.spawn(['runner', 'start-sync', '--workspace-root', workspace], {
      hubUrl: c.lbUrl,
      token: `${c.token}:${NS}`,
      pathPrepend: [procs.fakeBin],
      env: { FAKE_CLAUDE_LOG: fakeLog },
    });
    machineId = (await runner.waitForOutput(/Machine ID:\s+(\S+)/))[1]!;
    await pollUntil(
      async () => (await web.machine(machineId))?.runnerState?.status === 'running',
      'runner online via the LB',
      30_000,
    );
    // The runner's machine socket is the only /cli connection so far: its host is the one counting it.
    const counts = await Promise.all(c.hosts.map(cliConnections));
    expect(counts.sort()).toEqual([0, 1]);
    runnerHost = c.hosts[(await Promise.all(c.hosts.map(cliConnections))).indexOf(1)]!;
    sampler = (async () => {
      while (sampling) {
        const listed = await web.machines().catch(() => [] as any[]);
        maxListed = Math.max(maxListed, listed.filter((m) => m.id === machineId).length);
        await new Promise((r) => setTimeout(r, 150));
      }
    })();

    const spawned = await web.post(`/api/machines/${machineId}/spawn`, { directory: workspace });
    expect(spawned.body.type, JSON.stringify(spawned.body)).toBe('success');
    sid = spawned.body.sessionId;
    await pollUntil(async () => (await web.session(sid)).active === true, 'session active', 30_000);
  }, 120_000);

  it('kill -9 of the host holding the runner socket: the runner reconnects to the other host, re-registers, RPCs work again', async () => {
    const methods = ['spawn-happy-session', 'list-directory', 'path-exists', 'stop-session'].map(
      (m) => `${machineId}:${m}`,
    );
    const socketBefore = await engine.rpcRoutes.get(NS, methods[0]!);
    expect(socketBefore).not.toBeNull();
    const startedAtBefore = (await web.machine(machineId)).runnerState.startedAt as number;

    const victim = runnerHost;
    expect((await Promise.all(c.hosts.map(cliConnections))).reduce((a, b) => a + b, 0)).toBe(2);
    const survivor = c.hosts.find((h) => h !== victim)!;

    const killedAt = Date.now();
    await c.killHost(victim);
    await c.waitForLb(victim, 'DOWN');

    // Re-registration: every method now routes to one new socket; the runner sent a fresh
    // machine-update-state (startedAt is stamped on every connect).
    await pollUntil(
      async () => {
        const routes = await Promise.all(methods.map((m) => engine.rpcRoutes.get(NS, m)));
        return routes.every((r) => r !== null && r !== socketBefore && r === routes[0]);
      },
      'RPC methods re-registered on a new socket',
      30_000,
    );
    const after = await pollUntil(
      async () => {
        const m = await web.machine(machineId);
        return m && m.runnerState?.startedAt > startedAtBefore ? m : undefined;
      },
      'machine-update-state after reconnect',
      30_000,
    );
    expect(after).toMatchObject({ active: true, runnerState: { status: 'running', pid: runner.pid } });
    expect(await cliConnections(survivor)).toBe(2);
    const reconnectMs = Date.now() - killedAt;
    console.log(`[interop] runner re-registered ${reconnectMs} ms after kill -9 of ${victim.name}`);

    // RPCs reach the runner again, repeatedly (no call lands on a dead socket).
    for (let i = 0; i < 5; i += 1) {
      const res = await web.post(`/api/machines/${machineId}/paths/exists`, {
        paths: [workspace, join(workspace, 'nope')],
      });
      expect(res).toEqual({ status: 200, body: { exists: { [workspace]: true, [join(workspace, 'nope')]: false } } });
    }
    const listing = await web.post(`/api/machines/${machineId}/list-directory`, { path: workspace });
    expect(listing.body.success).toBe(true);
  }, 120_000);

  it('the session also came back: a web prompt reaches the real CLI after the failover', async () => {
    await pollUntil(async () => (await web.session(sid)).active === true, 'session still active', 30_000);
    const localId = `after-failover-${Date.now()}`;
    // The session socket may have been on the killed host too; the prompt is delivered once the
    // CLI re-attached (queued prompts are replayed on attach and keep-alive).
    const sent = await web.post(`/api/sessions/${sid}/messages`, { text: 'after the failover', localId });
    expect(sent).toEqual({ status: 200, body: { ok: true } });
    await pollUntil(
      () => readFileSync(fakeLog, 'utf8').includes('after the failover'),
      'prompt on the agent stdin',
      30_000,
    );
    await pollUntil(
      async () => {
        const res = await web.get(`/api/sessions/${sid}/messages?limit=50`);
        const rows = res.body.messages as { localId: string | null; invokedAt: number | null; content: any }[];
        const prompt = rows.findIndex((m) => m.localId === localId && m.invokedAt !== null);
        // consumed, and the agent's reply stored after it
        return (
          prompt >= 0 &&
          rows
            .slice(prompt + 1)
            .some((m) => m.content?.role === 'agent' && JSON.stringify(m.content).includes('fake reply'))
        );
      },
      'prompt consumed and answered',
      30_000,
    );
  }, 60_000);

  it('restart the killed host, kill the other: runner AND session fail over; a prompt sent during the gap is delivered', async () => {
    const first = runnerHost;
    const second = c.hosts.find((h) => h !== first)!;
    await c.startHost(first);
    // Both CLI sockets sit on `second` now (asserted above).
    const sessionRoute = await engine.rpcRoutes.get(NS, `${sid}:killSession`);
    const machineRoute = await engine.rpcRoutes.get(NS, `${machineId}:spawn-happy-session`);
    expect(sessionRoute).not.toBeNull();

    await c.killHost(second);
    const localId = `during-gap-${Date.now()}`;
    // Sent while the CLI is (very likely) still reconnecting: stored queued, replayed when it attaches.
    const sent = await pollUntil(
      async () => {
        const res = await web.post(`/api/sessions/${sid}/messages`, { text: 'sent during the gap', localId });
        return res.status === 200 ? res : undefined;
      },
      'prompt accepted by the surviving host',
      30_000,
    );
    expect(sent.body).toEqual({ ok: true });

    await pollUntil(
      async () => {
        const [s, m] = await Promise.all([
          engine.rpcRoutes.get(NS, `${sid}:killSession`),
          engine.rpcRoutes.get(NS, `${machineId}:spawn-happy-session`),
        ]);
        return s !== null && s !== sessionRoute && m !== null && m !== machineRoute;
      },
      'session and runner re-registered on new sockets',
      30_000,
    );
    expect(await cliConnections(first)).toBe(2);
    await pollUntil(
      () => readFileSync(fakeLog, 'utf8').includes('sent during the gap'),
      'gap prompt on the agent stdin',
      30_000,
    );
    await pollUntil(
      async () => {
        const res = await web.get(`/api/sessions/${sid}/messages?limit=100`);
        return (res.body.messages as { localId: string | null; invokedAt: number | null }[]).find(
          (m) => m.localId === localId,
        )?.invokedAt;
      },
      'gap prompt consumed',
      30_000,
    );
    const res = await web.post(`/api/machines/${machineId}/paths/exists`, { paths: [workspace] });
    expect(res).toEqual({ status: 200, body: { exists: { [workspace]: true } } });
    expect((await web.session(sid)).active).toBe(true);
  }, 180_000);

  it('graceful drain (SIGTERM) of a host: the real CLIs are told to reconnect and land on the other host', async () => {
    const first = runnerHost;
    const second = c.hosts.find((h) => h !== first)!;
    await c.startHost(second);
    // Both sockets are on `first` (the previous test).
    const sessionRoute = await engine.rpcRoutes.get(NS, `${sid}:killSession`);
    const machineRoute = await engine.rpcRoutes.get(NS, `${machineId}:spawn-happy-session`);
    const exit = await c.stopHost(first);
    expect(exit.code).toBe(0);
    await pollUntil(
      async () => {
        const [s, m] = await Promise.all([
          engine.rpcRoutes.get(NS, `${sid}:killSession`),
          engine.rpcRoutes.get(NS, `${machineId}:spawn-happy-session`),
        ]);
        return s !== null && s !== sessionRoute && m !== null && m !== machineRoute;
      },
      'session and runner re-registered after the drain',
      30_000,
    );
    expect(await cliConnections(second)).toBe(2);
    const res = await web.post(`/api/machines/${machineId}/paths/exists`, { paths: [workspace] });
    expect(res).toEqual({ status: 200, body: { exists: { [workspace]: true } } });
    const localId = `after-drain-${Date.now()}`;
    expect((await web.post(`/api/sessions/${sid}/messages`, { text: 'after the drain', localId })).status).toBe(200);
    await pollUntil(
      () => readFileSync(fakeLog, 'utf8').includes('after the drain'),
      'prompt on the agent stdin',
      30_000,
    );
    expect((await web.session(sid)).active).toBe(true);
  }, 180_000);

  it('the machine was never listed twice', () => {
    expect(maxListed).toBe(1);
  });
});
