// Interop: stopping the real runner. Hub run as an operator runs it (`node --import tsx
// src/main.ts serve`, memory engine) with a short machine liveness window.
//
// What the runner does on SIGTERM (cli/src/runner/run.ts cleanupAndShutdown): machine-update-state
// {status:'shutting-down', shutdownRequestedAt, shutdownSource:'os-signal'}, 100 ms pause, socket
// close. As upstream, the disconnect itself does not make the machine inactive; the liveness
// window does (machine-update-state counts as a keep-alive), announced exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureHapiCli, HapiProcesses, pollUntil } from '../helpers/hapi-cli.js';
import { announceSkip, startHubProcess, WebClient, type HubProcess, type SseRecorder } from './support.js';

const cli = await ensureHapiCli();
announceSkip('runner shutdown interop', cli.reason);

// Long enough that the machine cannot expire between registration and the stop (the runner's own
// machine-alive comes every 20 s), short enough to keep the test quick.
const MACHINE_TTL_MS = 6_000;
const SWEEP_INTERVAL_MS = 200;

describe.skipIf(!cli.bin)('runner shutdown → shutting-down, then inactive after the liveness window', () => {
  let hub: HubProcess;
  let procs: HapiProcesses;
  let web: WebClient;
  let sse: SseRecorder;

  beforeAll(async () => {
    hub = await startHubProcess({
      HAPI_MACHINE_TTL_MS: String(MACHINE_TTL_MS),
      HAPI_SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS),
    });
    procs = new HapiProcesses(cli.bin!);
    web = await WebClient.login(hub.url, hub.tokenFor('ops'));
    sse = await web.events({ all: 'true' });
  }, 60_000);

  afterAll(async () => {
    sse?.close();
    await procs?.cleanup();
    const code = await hub?.stop();
    expect(code).toBe(0);
  });

  it('announces shutting-down, stays listed until the window passes, then exactly one machine-updated {active:false}', async () => {
    const workspace = procs.tempDir('ws');
    const runner = procs.spawn(['runner', 'start-sync', '--workspace-root', workspace], {
      hubUrl: hub.url,
      token: hub.tokenFor('ops'),
    });
    const machineId = (await runner.waitForOutput(/Machine ID:\s+(\S+)/))[1]!;
    const isMachine = (e: any) => e.machineId === machineId;
    // The expiry patch, as upstream's MachinePatch (the registration's full Machine also has
    // active:false for a brand-new machine; that is not an expiry).
    const isExpiry = (e: any) => isMachine(e) && JSON.stringify(e.data) === '{"active":false}';
    await sse.waitFor(
      'machine-updated',
      (e) => isMachine(e) && e.data?.active === true && e.data?.runnerState?.status === 'running',
    );

    const exit = await runner.stop('SIGTERM');
    expect(exit.code).toBe(0);
    const stoppedAt = Date.now();
    const shutting = await sse.waitFor(
      'machine-updated',
      (e) => isMachine(e) && e.data?.runnerState?.status === 'shutting-down',
    );
    expect(shutting.data.runnerState).toMatchObject({ status: 'shutting-down', shutdownSource: 'os-signal' });
    expect(typeof shutting.data.runnerState.shutdownRequestedAt).toBe('number');

    // Socket closed, but within the window the machine is still online (upstream semantics).
    const during = await web.machine(machineId);
    expect(during).toMatchObject({ active: true, runnerState: { status: 'shutting-down' } });

    expect(sse.of('machine-updated', isExpiry)).toEqual([]);
    await sse.waitFor('machine-updated', isExpiry, MACHINE_TTL_MS + 10_000);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(MACHINE_TTL_MS - 1_000);
    expect(await web.machine(machineId)).toBeUndefined();
    const cliView = await fetch(`${hub.url}/cli/machines/${machineId}`, {
      headers: { authorization: `Bearer ${hub.tokenFor('ops')}` },
    });
    expect(((await cliView.json()) as { machine: unknown }).machine).toMatchObject({
      active: false,
      runnerState: { status: 'shutting-down' },
    });

    // Observation window of several sweeps: no second expiry announcement.
    const settledAt = Date.now() + SWEEP_INTERVAL_MS * 8;
    await pollUntil(() => Date.now() >= settledAt, 'observation window');
    expect(sse.of('machine-updated', isExpiry)).toHaveLength(1);
    // ...and nothing after it re-announced the machine as active.
    const events = sse.of('machine-updated', isMachine);
    expect(events.at(-1)).toEqual(sse.of('machine-updated', isExpiry)[0]);
  }, 90_000);
});
