// Interop: the real HAPI runner (`hapi runner start-sync`, the foreground mode that
// `hapi runner start` spawns detached) registers its machine with our hub, and the web plane's
// machine RPCs reach it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureHapiCli, HapiProcesses, pollUntil, type HapiProcess } from '../helpers/hapi-cli.js';
import { announceSkip, startInteropHub, WebClient, type InteropHub } from './support.js';

const cli = await ensureHapiCli();
announceSkip('runner interop', cli.reason);

describe.skipIf(!cli.bin)('real runner against our hub (memory engine)', { timeout: 90_000 }, () => {
  let hub: InteropHub;
  let procs: HapiProcesses;
  let workspace: string;
  let runner: HapiProcess;
  let machineId: string;
  // Logged in lazily: the CLI-plane assertions do not depend on the web plane.
  let aliceClient: Promise<WebClient> | undefined;
  let bobClient: Promise<WebClient> | undefined;
  const web = {
    alice: () => (aliceClient ??= WebClient.login(hub.url, hub.tokenFor('alice'))),
    bob: () => (bobClient ??= WebClient.login(hub.url, hub.tokenFor('bob'))),
  };

  beforeAll(async () => {
    hub = await startInteropHub();
    procs = new HapiProcesses(cli.bin!);
    workspace = procs.tempDir('workspace');
    mkdirSync(join(workspace, 'src'));
    writeFileSync(join(workspace, 'README.md'), 'hello\n');
    mkdirSync(join(workspace, '.hidden'));
    // No stand-in agents on this runner's PATH: spawns must fail with the runner's own error.
    runner = procs.spawn(['runner', 'start-sync', '--workspace-root', workspace], {
      hubUrl: hub.url,
      token: hub.tokenFor('alice'),
    });
    machineId = (await runner.waitForOutput(/Machine ID:\s+(\S+)/))[1]!;
  }, 90_000);

  afterAll(async () => {
    await procs?.cleanup();
    await hub?.close();
  });

  it('registers over /cli REST, a machine-scoped socket, rpc-register, machine-update-state running and machine-alive', async () => {
    const t = hub.traffic;
    await t.waitFor(() => t.of({ event: 'machine-alive', machineId }).length > 0, 'machine-alive from the runner');
    const connect = t.of({ event: 'connect', machineId });
    expect(connect).toHaveLength(1);
    expect(connect[0]!.auth).toMatchObject({ clientType: 'machine-scoped', machineId });

    const methods = t.of({ event: 'rpc-register', machineId }).map((e) => (e.payload as { method: string }).method);
    for (const name of ['spawn-happy-session', 'stop-session', 'stop-runner', 'list-directory', 'path-exists']) {
      expect(methods).toContain(`${machineId}:${name}`);
    }
    // Every method is scoped to the machine id; the hub routes each one to this socket.
    expect(methods.every((m) => m.startsWith(`${machineId}:`))).toBe(true);
    for (const method of methods) expect(await hub.engine.rpcRoutes.get('alice', method)).toBe(connect[0]!.socketId);

    const state = t.of({ event: 'machine-update-state', machineId })[0]!.payload as {
      expectedVersion: number;
      runnerState: { status: string; pid: number };
    };
    expect(state.runnerState.status).toBe('running');
    expect(state.runnerState.pid).toBe(runner.pid);

    const alive = t.of({ event: 'machine-alive', machineId })[0]!.payload as {
      machineId: string;
      time: number;
      health: { collectedAt: number };
    };
    expect(alive.machineId).toBe(machineId);
    expect(typeof alive.health.collectedAt).toBe('number');
  });

  it('GET /api/machines lists it online with metadata and runnerState (same base:ns token)', async () => {
    const alice = await web.alice();
    const machine = await pollUntil(async () => {
      const m = await alice.machine(machineId);
      return m?.runnerState?.status === 'running' ? m : undefined;
    }, 'machine online in GET /api/machines');
    expect(machine).toMatchObject({
      id: machineId,
      namespace: 'alice',
      active: true,
      metadata: { platform: 'linux', happyCliVersion: '0.30.7', workspaceRoots: [workspace] },
      runnerState: { status: 'running', pid: runner.pid },
    });
    expect(typeof machine.metadata.host).toBe('string');
    expect(machine.metadata.capabilities).toEqual(expect.arrayContaining(['stop-runner']));
    expect(machine.runnerStateVersion).toBeGreaterThanOrEqual(2);
    expect(typeof machine.activeAt).toBe('number');
  });

  it('is invisible to another namespace', async () => {
    const bob = await web.bob();
    expect((await bob.machines()).map((m) => m.id)).not.toContain(machineId);
    const rpc = await bob.post(`/api/machines/${machineId}/list-directory`, { path: workspace });
    expect(rpc).toEqual({ status: 404, body: { error: 'Machine not found' } });
    const cliRest = await fetch(`${hub.url}/cli/machines/${machineId}`, {
      headers: { authorization: `Bearer ${hub.tokenFor('bob')}` },
    });
    expect(cliRest.status).toBe(404);
  });

  it("list-directory returns the runner's real listing and enforces its workspace roots", async () => {
    const alice = await web.alice();
    const listing = await alice.post(`/api/machines/${machineId}/list-directory`, { path: workspace });
    expect(listing.status).toBe(200);
    expect(listing.body.success).toBe(true);
    const entries = listing.body.entries as { name: string; type: string }[];
    expect(entries.map((e) => `${e.type}:${e.name}`).sort()).toEqual(['directory:src', 'file:README.md']);

    const hidden = await alice.post(`/api/machines/${machineId}/list-directory`, {
      path: workspace,
      includeHidden: true,
    });
    expect((hidden.body.entries as { name: string }[]).map((e) => e.name).sort()).toEqual([
      '.hidden',
      'README.md',
      'src',
    ]);

    const outside = await alice.post(`/api/machines/${machineId}/list-directory`, { path: '/etc' });
    expect(outside).toEqual({ status: 200, body: { success: false, error: 'Path is outside workspace roots' } });
  });

  it("paths/exists returns the runner's answers", async () => {
    const alice = await web.alice();
    const res = await alice.post(`/api/machines/${machineId}/paths/exists`, {
      paths: [workspace, join(workspace, 'src'), join(workspace, 'missing'), join(workspace, 'README.md'), '/etc'],
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      exists: {
        [workspace]: true,
        [join(workspace, 'src')]: true,
        [join(workspace, 'missing')]: false,
        // the runner answers "is an existing directory"
        [join(workspace, 'README.md')]: false,
        // outside the workspace roots
        '/etc': false,
      },
    });
  });

  it("spawn without an agent installed passes the runner's own error through", async () => {
    const alice = await web.alice();
    const res = await alice.post(`/api/machines/${machineId}/spawn`, { directory: workspace });
    expect(res).toEqual({ status: 200, body: { type: 'error', message: 'claude is not installed or is not on PATH' } });
    // The runner also reports the failure in its runnerState (machine-update-state).
    const machine = await pollUntil(async () => {
      const m = await alice.machine(machineId);
      return m?.runnerState?.lastSpawnError ? m : undefined;
    }, 'lastSpawnError in runnerState');
    expect(machine.runnerState.lastSpawnError.message).toBe('claude is not installed or is not on PATH');

    const outside = await alice.post(`/api/machines/${machineId}/spawn`, { directory: '/etc' });
    expect(outside).toEqual({
      status: 200,
      body: { type: 'error', message: "Directory is outside this machine's workspace roots" },
    });
  });

  it('every versioned write of the runner succeeded first time and the hub never sent it an error', async () => {
    const t = hub.traffic;
    const versions = t
      .of({ event: 'machine-update-state', machineId })
      .map((e) => (e.payload as { expectedVersion: number }).expectedVersion);
    // The CLI retries a refused write with the same expectedVersion; none did.
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
    const stored = await hub.engine.machines.get('alice', machineId);
    expect(stored?.runnerStateVersion).toBe(versions.at(-1)! + 1);
    expect(t.of({ event: 'out:error', machineId })).toEqual([]);
  });

  it('a restart with other workspace roots (same HAPI_HOME, same machine id) re-registers the same machine with merged metadata', async () => {
    const alice = await web.alice();
    const before = await alice.machine(machineId);
    expect((await runner.stop('SIGTERM')).code).toBe(0);
    const second = procs.tempDir('workspace2');
    const restarted = procs.spawn(['runner', 'start-sync', '--workspace-root', workspace, '--workspace-root', second], {
      hubUrl: hub.url,
      token: hub.tokenFor('alice'),
      home: runner.home,
    });
    expect((await restarted.waitForOutput(/Machine ID:\s+(\S+)/))[1]).toBe(machineId);
    const after = await pollUntil(async () => {
      const m = await alice.machine(machineId);
      return m?.runnerState?.pid === restarted.pid && m.runnerState.status === 'running' ? m : undefined;
    }, 'restarted runner online');
    expect(after.metadata.workspaceRoots).toEqual([workspace, second]);
    expect(after.metadataVersion).toBeGreaterThan(before.metadataVersion);
    expect(after.runnerStateVersion).toBeGreaterThan(before.runnerStateVersion);
    expect((await alice.machines()).filter((m) => m.id === machineId)).toHaveLength(1);
    const listing = await alice.post(`/api/machines/${machineId}/list-directory`, { path: second });
    expect(listing).toEqual({ status: 200, body: { success: true, entries: [] } });
    // The old runner's socket is gone; every method routes to the new one.
    const socketId = hub.traffic.of({ event: 'connect', machineId }).at(-1)!.socketId;
    expect(await hub.engine.rpcRoutes.get('alice', `${machineId}:spawn-happy-session`)).toBe(socketId);
    expect(hub.traffic.of({ event: 'out:error', machineId })).toEqual([]);
  });
});
