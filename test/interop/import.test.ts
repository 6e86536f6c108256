// Interop: `hapi-hub import` of a hapi.db the REAL upstream hub (0.30.7) wrote. The upstream hub
// runs with a throw-away HAPI_HOME on a loopback port; the real CLI (runners + runner-spawned
// `hapi claude` sessions with the stand-in agent) fills it with two namespaces, machines, sessions
// and messages. Its REST answers are recorded (after an upstream restart, so presence is what a
// stopped hub has: nothing active), then the database is imported into our hub (sqlite, and a
// Redis Cluster) and our hub must give the same answers, accept the same token, and carry on.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../helpers/cluster.js';
import { ensureHapiCli, HapiProcesses, type HapiProcess, pollUntil, processesOfHome } from '../helpers/hapi-cli.js';
import { startRedisCluster, type RedisClusterHandle } from '../helpers/redis-server.js';
import { announceSkip, startHubProcess, WebClient, type HubProcess } from './support.js';

const cli = await ensureHapiCli();
announceSkip('import interop', cli.reason);

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
// `default` is what the bare token (no `:namespace` suffix) opens, on both hubs.
const NAMESPACES = ['alice', 'default'] as const;
type Ns = (typeof NAMESPACES)[number];

/** What a web client sees of one namespace. */
interface Snapshot {
  sessions: any[];
  session: Record<string, any>;
  /** Per session: the newest page of 3, then every older page by its cursor; then one page of 200. */
  pages: Record<string, any[]>;
  machines: any[];
}

async function snapshot(url: string, token: string): Promise<Snapshot> {
  const web = await WebClient.login(url, token);
  const sessions = await web.sessions();
  const result: Snapshot = { sessions, session: {}, pages: {}, machines: await web.machines() };
  for (const { id } of sessions) {
    result.session[id] = await web.session(id);
    const pages: any[] = [];
    let query = 'limit=3';
    for (;;) {
      const page = await web.get(`/api/sessions/${id}/messages?${query}`);
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      pages.push(page.body);
      if (!page.body.page.hasMore) break;
      query = `limit=3&beforeSeq=${page.body.page.nextBeforeSeq}&beforeAt=${page.body.page.nextBeforeAt}`;
    }
    pages.push((await web.get(`/api/sessions/${id}/messages?limit=200`)).body);
    result.pages[id] = pages;
  }
  return result;
}

/** Sorted by id: list order of equal-time rows is not part of the contract. */
function byId<T extends { id: string }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => a.id.localeCompare(b.id));
}

function runImport(env: Record<string, string>, from: string): { code: number | null; stdout: string; stderr: string } {
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'src', 'main.ts'), 'import', '--from', from],
    {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe.skipIf(!cli.bin)('hapi-hub import of a real upstream hapi.db', { timeout: 300_000 }, () => {
  let procs: HapiProcesses;
  let upstreamHome: string;
  let upstreamPort: number;
  let token: string;
  let workspace: string;
  let fakeLog: string;
  const runnerHomes: Record<Ns, string> = { alice: '', default: '' };
  const machineIds: Record<Ns, string> = { alice: '', default: '' };
  const recorded = {} as Record<Ns, Snapshot>;
  let upstreamCounts: { sessions: number; messages: number; machines: number };
  const scratch: string[] = [];

  const tokenFor = (ns: Ns): string => (ns === 'default' ? token : `${token}:${ns}`);

  function startUpstreamHub(): HapiProcess {
    return procs.spawn(['hub'], {
      hubUrl: '',
      // Empty: upstream reads its token from settings.json (generated on the first start).
      token: '',
      home: upstreamHome,
      env: { HAPI_LISTEN_HOST: '127.0.0.1', HAPI_LISTEN_PORT: String(upstreamPort) },
    });
  }

  async function waitUp(url: string): Promise<void> {
    await pollUntil(
      async () => (await fetch(`${url}/api/sessions`).catch(() => null))?.status === 401,
      `${url} up`,
      60_000,
    );
  }

  /** SIGTERM to every process of a CLI home (runner and its session children), until none is left. */
  async function stopHome(home: string): Promise<void> {
    for (const pid of processesOfHome(home)) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone meanwhile
      }
    }
    await pollUntil(() => processesOfHome(home).length === 0, `processes of ${home} exit`, 20_000);
  }

  beforeAll(async () => {
    procs = new HapiProcesses(cli.bin!);
    upstreamHome = procs.newHome();
    upstreamPort = await findFreePort();
    workspace = procs.tempDir('workspace');
    fakeLog = join(procs.tempDir('logs'), 'fake-claude.log');
    const url = `http://127.0.0.1:${upstreamPort}`;
    let hub = startUpstreamHub();
    await waitUp(url);
    token = (JSON.parse(readFileSync(join(upstreamHome, 'settings.json'), 'utf8')) as { cliApiToken: string })
      .cliApiToken;
    expect(token).toMatch(/^[\w-]{20,}$/);

    // Per namespace: a runner (a machine) and runner-spawned sessions with a conversation each.
    const spawned: Record<Ns, number> = { alice: 2, default: 1 };
    for (const ns of NAMESPACES) {
      runnerHomes[ns] = procs.newHome();
      const runner = procs.spawn(['runner', 'start-sync', '--workspace-root', workspace], {
        hubUrl: url,
        token: tokenFor(ns),
        home: runnerHomes[ns],
        pathPrepend: [procs.fakeBin],
        env: { FAKE_CLAUDE_LOG: fakeLog },
      });
      machineIds[ns] = (await runner.waitForOutput(/Machine ID:\s+(\S+)/))[1]!;
      const web = await WebClient.login(url, tokenFor(ns));
      await pollUntil(
        async () => (await web.machine(machineIds[ns]))?.runnerState?.status === 'running',
        'runner online',
      );
      for (let s = 0; s < spawned[ns]; s++) {
        const res = await web.post(`/api/machines/${machineIds[ns]}/spawn`, { directory: workspace, agent: 'claude' });
        expect(res.body.type, JSON.stringify(res.body)).toBe('success');
        const sid = res.body.sessionId as string;
        await pollUntil(async () => (await web.session(sid)).active === true, `session ${sid} active`);
        for (let turn = 1; turn <= 2; turn++) {
          const sent = await web.post(`/api/sessions/${sid}/messages`, {
            text: `${ns} ${s} turn ${turn}`,
            localId: `${sid}-${turn}`,
          });
          expect(sent.status).toBe(200);
          await pollUntil(
            async () => {
              const body = (await web.get(`/api/sessions/${sid}/messages?limit=200`)).body;
              return JSON.stringify(body).split('fake reply').length - 1 >= turn;
            },
            `reply ${turn} in ${sid}`,
            30_000,
          );
        }
      }
    }
    for (const ns of NAMESPACES) await stopHome(runnerHomes[ns]);
    await hub.stop();

    // Upstream after a restart: what its database holds, presence included (nothing is active).
    hub = startUpstreamHub();
    await waitUp(url);
    for (const ns of NAMESPACES) recorded[ns] = await snapshot(url, tokenFor(ns));
    await hub.stop();

    upstreamCounts = { sessions: 0, messages: 0, machines: 0 };
    for (const ns of NAMESPACES) {
      upstreamCounts.sessions += recorded[ns].sessions.length;
      upstreamCounts.machines += recorded[ns].machines.length;
      for (const pages of Object.values(recorded[ns].pages)) upstreamCounts.messages += pages.at(-1).messages.length;
    }
    expect(upstreamCounts).toMatchObject({ sessions: 3, machines: 2 });
    expect(upstreamCounts.messages).toBeGreaterThanOrEqual(3 * 4);
  }, 300_000);

  afterAll(async () => {
    await procs?.cleanup();
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  });

  function expectSummary(stdout: string, added: boolean): void {
    const n = (kind: string, count: number) =>
      added ? `${kind}: ${count} added, 0 skipped` : `${kind}: 0 added, ${count} skipped`;
    expect(stdout).toContain(n('namespaces', NAMESPACES.length));
    expect(stdout).toContain(n('machines', upstreamCounts.machines));
    expect(stdout).toContain(n('sessions', upstreamCounts.sessions));
    expect(stdout).toContain(n('messages', upstreamCounts.messages));
    expect(stdout).toContain('hub token: carried over');
  }

  async function expectSameRest(hub: HubProcess): Promise<void> {
    for (const ns of NAMESPACES) {
      // The upstream token, with its namespace suffix, logs in to our hub.
      const ours = await snapshot(hub.url, tokenFor(ns));
      const theirs = recorded[ns];
      // GET /api/machines lists online machines only, on both hubs. Upstream reloads a machine
      // with its stored active=1 (its runner's last state write set it) and shows it until its
      // first expiry tick; ours starts every imported machine offline. The rows themselves are
      // checked when the runner comes back (the CLI test below).
      expect(theirs.machines.map((m) => m.id)).toEqual([machineIds[ns]]);
      expect(ours.machines).toEqual([]);
      // Upstream 0.30.7's session answers carry `hasConversationContent`; ours leave it out for
      // every session, imported or not (a difference of the session routes, not of the import).
      const withoutContentFlag = ({ hasConversationContent: _, ...rest }: any) => rest;
      expect(byId(ours.sessions)).toEqual(byId(theirs.sessions.map(withoutContentFlag)));
      const theirSessions = Object.fromEntries(
        Object.entries(theirs.session).map(([id, session]) => [id, withoutContentFlag(session)]),
      );
      expect(ours.session).toEqual(theirSessions);
      expect(ours.pages).toEqual(theirs.pages);
    }
  }

  describe('into sqlite', () => {
    let dataDir: string;
    let hub: HubProcess | undefined;

    beforeAll(() => {
      dataDir = mkdtempSync(join(tmpdir(), 'hapi-import-sqlite-'));
      scratch.push(dataDir);
    });
    afterAll(async () => {
      await hub?.stop();
    });

    it('copies everything once, with a progress line and a summary; a second run adds nothing', () => {
      const env = { HAPI_ENGINE: 'sqlite', HAPI_DATA_DIR: dataDir };
      const first = runImport(env, join(upstreamHome, 'hapi.db'));
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toMatch(
        new RegExp(`import: messages ${upstreamCounts.messages}/${upstreamCounts.messages}`),
      );
      expectSummary(first.stdout, true);
      // The HAPI_HOME directory works as --from too.
      const second = runImport(env, upstreamHome);
      expect(second.code, second.stderr).toBe(0);
      expectSummary(second.stdout, false);
    });

    it('our hub on the imported data gives the same REST answers as upstream', async () => {
      // No CLI_API_TOKEN: the hub uses the carried-over one.
      hub = await startHubProcess({ HAPI_ENGINE: 'sqlite', HAPI_DATA_DIR: dataDir, CLI_API_TOKEN: '' });
      await expectSameRest(hub);
    });

    it('the real CLI keeps its token: the runner comes back as the same machine and an imported session resumes', async () => {
      const web = await WebClient.login(hub!.url, `${token}:alice`);
      const before = recorded.alice.machines[0];
      const runner = procs.spawn(['runner', 'start-sync', '--workspace-root', workspace], {
        hubUrl: hub!.url,
        token: `${token}:alice`,
        home: runnerHomes.alice,
        pathPrepend: [procs.fakeBin],
        env: { FAKE_CLAUDE_LOG: fakeLog },
      });
      expect((await runner.waitForOutput(/Machine ID:\s+(\S+)/))[1]).toBe(machineIds.alice);
      const machine = await pollUntil(async () => {
        const m = await web.machine(machineIds.alice);
        return m?.active === true && m.runnerState?.status === 'running' ? m : undefined;
      }, 'runner online on our hub');
      // The carried-over row: same creation time and metadata (the runner's registration merged
      // into it changed nothing, so the version stayed), and its runner-state writes went
      // through against the carried-over version.
      expect(machine).toMatchObject({
        createdAt: before.createdAt,
        metadata: before.metadata,
        metadataVersion: before.metadataVersion,
      });
      expect(machine.runnerStateVersion).toBeGreaterThan(before.runnerStateVersion);
      expect((await web.machines()).map((m: { id: string }) => m.id)).toEqual([machineIds.alice]);

      const imported = recorded.alice.sessions[0];
      const claudeSessionId = recorded.alice.session[imported.id].metadata.claudeSessionId as string;
      const res = await web.post(`/api/sessions/${imported.id}/resume`, {});
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const resumed = res.body.sessionId as string;
      await pollUntil(async () => (await web.session(resumed)).active === true, 'resumed session active');
      const sent = await web.post(`/api/sessions/${resumed}/messages`, { text: 'after the move', localId: 'moved-1' });
      expect(sent.status).toBe(200);
      await pollUntil(
        () => readFileSync(fakeLog, 'utf8').includes(`--resume ${claudeSessionId}`),
        'agent started with the imported session’s resume id',
      );
      await pollUntil(
        async () =>
          JSON.stringify((await web.get(`/api/sessions/${resumed}/messages?limit=200`)).body).includes('fake reply'),
        'a reply through our hub',
      );
      await stopHome(runnerHomes.alice);
    });

    it('a run after our hub has moved on adds nothing and leaves the new state alone', async () => {
      const web = await WebClient.login(hub!.url, `${token}:alice`);
      const sessionsBefore = byId(await web.sessions());
      await hub!.stop();
      hub = undefined;
      const again = runImport({ HAPI_ENGINE: 'sqlite', HAPI_DATA_DIR: dataDir }, join(upstreamHome, 'hapi.db'));
      expect(again.code, again.stderr).toBe(0);
      expectSummary(again.stdout, false);
      hub = await startHubProcess({ HAPI_ENGINE: 'sqlite', HAPI_DATA_DIR: dataDir, CLI_API_TOKEN: '' });
      const after = await WebClient.login(hub.url, `${token}:alice`);
      // The resumed session (not upstream's) is still there; the imported ones kept what our hub wrote.
      const strip = ({ active: _a, activeAt: _b, thinking: _c, thinkingAt: _d, ...rest }: any) => rest;
      expect(byId(await after.sessions()).map(strip)).toEqual(sessionsBefore.map(strip));
    });
  });

  describe('into a Redis Cluster', () => {
    let cluster: RedisClusterHandle;
    let hub: HubProcess | undefined;

    beforeAll(async () => {
      cluster = await startRedisCluster();
    }, 60_000);
    afterAll(async () => {
      await hub?.stop();
      await cluster?.stop();
    });

    it('imports idempotently and our hub gives the same REST answers', async () => {
      const env = { REDIS_URL: cluster.url };
      const first = runImport(env, join(upstreamHome, 'hapi.db'));
      expect(first.code, first.stderr).toBe(0);
      expectSummary(first.stdout, true);
      const second = runImport(env, join(upstreamHome, 'hapi.db'));
      expect(second.code, second.stderr).toBe(0);
      expectSummary(second.stdout, false);
      hub = await startHubProcess({ REDIS_URL: cluster.url, CLI_API_TOKEN: '' });
      await expectSameRest(hub);
    });
  });

  it('refuses a file that is not an upstream database, and a missing one, changing nothing', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hapi-import-bad-'));
    scratch.push(dataDir);
    const env = { HAPI_ENGINE: 'sqlite', HAPI_DATA_DIR: dataDir };
    const missing = runImport(env, join(dataDir, 'nope.db'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no such file');
    const notDb = runImport(env, join(upstreamHome, 'settings.json'));
    expect(notDb.code).toBe(1);
    expect(notDb.stderr).toMatch(/not an SQLite database|not an upstream hub database/);
    // Refused before the engine was opened: nothing was created.
    expect(existsSync(join(dataDir, 'hub.db'))).toBe(false);
  });
});
