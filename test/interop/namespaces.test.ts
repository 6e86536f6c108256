// Interop: tenants. Real runners with `base:alice`, `base:bob` and a per-namespace token (issued
// by NamespaceAdmin, as `hapi-hub ns create dave` does) each see only their own namespace, and a
// forged rpc-register for another tenant's machine is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NamespaceAdmin } from '../../src/services/auth.js';
import { systemClock } from '../../src/services/clock.js';
import { closeAll, connectCli, nextEvent, pingBarrier } from '../helpers/cli-client.js';
import { ensureHapiCli, HapiProcesses, pollUntil, type HapiProcess } from '../helpers/hapi-cli.js';
import { announceSkip, startInteropHub, WebClient, type InteropHub } from './support.js';

const cli = await ensureHapiCli();
announceSkip('namespace interop', cli.reason);

interface Tenant {
  ns: string;
  token: string;
  runner: HapiProcess;
  machineId: string;
  web: WebClient;
}

describe.skipIf(!cli.bin)('real runners in three namespaces', { timeout: 90_000 }, () => {
  let hub: InteropHub;
  let procs: HapiProcesses;
  const tenants: Record<string, Tenant> = {};

  beforeAll(async () => {
    hub = await startInteropHub();
    procs = new HapiProcesses(cli.bin!);
    const daveToken = (await new NamespaceAdmin(hub.engine, systemClock).create('dave')).token;
    const tokens: Record<string, string> = {
      alice: hub.tokenFor('alice'),
      bob: hub.tokenFor('bob'),
      dave: `${daveToken}:dave`,
    };
    await Promise.all(
      Object.entries(tokens).map(async ([ns, token]) => {
        const workspace = procs.tempDir(`ws-${ns}`);
        const runner = procs.spawn(['runner', 'start-sync', '--workspace-root', workspace], { hubUrl: hub.url, token });
        const machineId = (await runner.waitForOutput(/Machine ID:\s+(\S+)/))[1]!;
        tenants[ns] = { ns, token, runner, machineId, web: await WebClient.login(hub.url, token) };
      }),
    );
    for (const t of Object.values(tenants)) {
      await pollUntil(
        async () => (await t.web.machine(t.machineId))?.runnerState?.status === 'running',
        `${t.ns} runner online`,
      );
    }
  }, 90_000);

  afterAll(async () => {
    await procs?.cleanup();
    await hub?.close();
  });

  it("three distinct machines, each stored in its token's namespace", async () => {
    const ids = Object.values(tenants).map((t) => t.machineId);
    expect(new Set(ids).size).toBe(3);
    for (const t of Object.values(tenants))
      expect((await hub.engine.machines.get(t.ns, t.machineId))?.namespace).toBe(t.ns);
  });

  it('GET /api/machines shows each namespace only its own runner', async () => {
    for (const t of Object.values(tenants)) {
      const machines = await t.web.machines();
      expect(machines.map((m) => m.id)).toEqual([t.machineId]);
      expect(machines[0]).toMatchObject({ namespace: t.ns, active: true, runnerState: { status: 'running' } });
    }
  });

  it('machine RPCs across namespaces are refused; within the namespace they reach the runner', async () => {
    const { alice, bob, dave } = tenants as Record<'alice' | 'bob' | 'dave', Tenant>;
    for (const [caller, target] of [
      [alice, bob],
      [bob, dave],
      [dave, alice],
    ] as const) {
      const res = await caller.web.post(`/api/machines/${target.machineId}/paths/exists`, { paths: ['/tmp'] });
      expect(res.status, `${caller.ns} → ${target.ns}`).toBe(404);
    }
    const own = await dave.web.post(`/api/machines/${dave.machineId}/paths/exists`, {
      paths: ['/definitely/not/there'],
    });
    expect(own).toEqual({ status: 200, body: { exists: { '/definitely/not/there': false } } });
  });

  it('the per-namespace token opens only its namespace', async () => {
    const daveBase = tenants.dave!.token.slice(0, tenants.dave!.token.lastIndexOf(':'));
    const asAlice = await fetch(`${hub.url}/api/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accessToken: `${daveBase}:alice` }),
    });
    expect(asAlice.status).toBe(401);
    const cliRest = await fetch(`${hub.url}/cli/machines/${tenants.alice!.machineId}`, {
      headers: { authorization: `Bearer ${daveBase}:alice` },
    });
    expect(cliRest.status).toBe(401);
  });

  it("a forged rpc-register (alice's token) for bob's machine id is refused with access-denied and routes nothing", async () => {
    const bob = tenants.bob!;
    const method = `${bob.machineId}:list-directory`;
    const routeBefore = await hub.engine.rpcRoutes.get(bob.ns, method);
    expect(routeBefore).not.toBeNull();
    const forger = await connectCli(hub.url, { token: tenants.alice!.token, clientType: 'machine-scoped' });
    try {
      forger.emit('rpc-register', { method });
      const error = await nextEvent<{ code: string; scope: string; id: string }>(forger, 'error');
      expect(error).toMatchObject({ code: 'access-denied', id: bob.machineId });
      await pingBarrier(forger);
      expect(await hub.engine.rpcRoutes.get(bob.ns, method)).toBe(routeBefore);
      expect(await hub.engine.rpcRoutes.get(tenants.alice!.ns, method)).toBeNull();
      // Bob's runner still answers its own RPC.
      const res = await bob.web.post(`/api/machines/${bob.machineId}/list-directory`, { path: '/' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ success: false, error: 'Path is outside workspace roots' });
    } finally {
      closeAll(forger);
    }
  });

  it("a forged machine-scoped handshake for another tenant's machine joins nothing and its writes find no machine", async () => {
    const bob = tenants.bob!;
    const forger = await connectCli(hub.url, {
      token: tenants.alice!.token,
      clientType: 'machine-scoped',
      machineId: bob.machineId,
    });
    try {
      // Ids are per namespace: in alice's namespace bob's machine id is simply unknown.
      const ack = await forger.emitWithAck('machine-update-state', {
        machineId: bob.machineId,
        expectedVersion: 1,
        runnerState: { status: 'offline' },
      });
      expect(ack).toEqual({ result: 'error', reason: 'not-found' });
      forger.emit('rpc-register', { method: `${bob.machineId}:list-directory` });
      expect(await nextEvent(forger, 'error')).toEqual({
        message: 'machine not found',
        code: 'not-found',
        scope: 'machine',
        id: bob.machineId,
      });
      const machine = await bob.web.machine(bob.machineId);
      expect(machine?.runnerState?.status).toBe('running');
    } finally {
      closeAll(forger);
    }
  });
});

describe.skipIf(!cli.bin)(
  "hosted mode (HAPI_GLOBAL_TOKEN=off): only a namespace's own token opens it",
  { timeout: 90_000 },
  () => {
    let hub: InteropHub;
    let procs: HapiProcesses;

    beforeAll(async () => {
      hub = await startInteropHub({ globalTokenEnabled: false });
      procs = new HapiProcesses(cli.bin!);
    }, 60_000);

    afterAll(async () => {
      await procs?.cleanup();
      await hub?.close();
    });

    it('a runner with the hub-wide token for a tenant namespace is refused (POST /cli/machines 401 → it exits 1)', async () => {
      const runner = procs.spawn(['runner', 'start-sync', '--workspace-root', procs.tempDir('ws')], {
        hubUrl: hub.url,
        token: hub.tokenFor('eve'),
      });
      const exit = await runner.exited;
      expect(exit.code).toBe(1);
      expect(await hub.engine.machines.list('eve')).toEqual([]);
      const peers = await procs.run(['ping-peer', '--list'], { hubUrl: hub.url, token: hub.tokenFor('eve') });
      expect(peers.exit.code).toBe(2);
      expect(peers.output).toContain('failed to exchange access token for JWT (Invalid access token)');
    });

    it("the same runner with eve's own token registers in eve", async () => {
      const token = `${(await new NamespaceAdmin(hub.engine, systemClock).create('eve')).token}:eve`;
      const runner = procs.spawn(['runner', 'start-sync', '--workspace-root', procs.tempDir('ws')], {
        hubUrl: hub.url,
        token,
      });
      const machineId = (await runner.waitForOutput(/Machine ID:\s+(\S+)/))[1]!;
      const web = await WebClient.login(hub.url, token);
      await pollUntil(
        async () => (await web.machine(machineId))?.runnerState?.status === 'running',
        'eve runner online',
      );
      expect((await hub.engine.machines.get('eve', machineId))?.namespace).toBe('eve');
    });
  },
);
