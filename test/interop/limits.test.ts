// Interop: what the real HAPI CLI 0.30.7 does with a rate-limit answer. A real `hapi claude`
// session (spawned by the real runner, stand-in agent) is put over its byte rate; a web prompt
// makes the agent reply, and the CLI's `message` events are refused with the `error` event
// (`rate-limited`, no ack: the CLI emits `message` without one). The test records what the CLI
// does next — whether it sends the refused message again once the limit is lifted — and what the
// web then sees. README (Limits) documents the finding.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureHapiCli, HapiProcesses, pollUntil, type HapiProcess } from '../helpers/hapi-cli.js';
import { announceSkip, startInteropHub, startStandInRunner, type WebClient, type InteropHub } from './support.js';

const cli = await ensureHapiCli();
announceSkip('limits interop', cli.reason);

const NS = 'limited';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe.skipIf(!cli.bin)('the real CLI over its rate limit', { timeout: 120_000 }, () => {
  let hub: InteropHub;
  let procs: HapiProcesses;
  let runner: HapiProcess;
  let web: WebClient;
  let sid: string;

  beforeAll(async () => {
    hub = await startInteropHub({ sessionTtlMs: 6_000 });
    procs = new HapiProcesses(cli.bin!);
    const workspace = procs.tempDir('workspace');
    const started = await startStandInRunner(procs, hub, NS, workspace);
    runner = started.runner;
    web = started.web;
    const machineId = started.machineId;
    const spawned = await web.post(`/api/machines/${machineId}/spawn`, { directory: workspace, agent: 'claude' });
    expect(spawned.body.type, JSON.stringify(spawned.body)).toBe('success');
    sid = spawned.body.sessionId as string;
    await pollUntil(async () => (await web.session(sid)).active === true, 'session active');
  }, 120_000);

  afterAll(async () => {
    await procs?.cleanup();
    await hub?.close();
  });

  it('is told with an `error` event, logs it, and neither re-sends the refused message nor drops the connection', async () => {
    const t = hub.traffic;
    const messagesBefore = t.of({ event: 'message', sessionId: sid }).length;
    // 10 bytes of burst at 1 byte/s: the first message passes, every other one is refused.
    await hub.hub.services.limits.setOverrides(NS, { socketBytesPerSec: 1 });
    const sent = await web.post(`/api/sessions/${sid}/messages`, { text: 'over the limit', localId: 'limited-1' });
    expect(sent.status).toBe(200);
    await t.waitFor(
      (entries) =>
        entries.some(
          (e) =>
            e.event === 'out:error' &&
            e.auth.sessionId === sid &&
            (e.payload as { code?: string }).code === 'rate-limited',
        ),
      'a rate-limited error event to the CLI',
    );
    // Let the agent's turn finish (messages-consumed and the reply attempts), then lift the limit.
    await t.waitFor(() => t.of({ event: 'messages-consumed', sessionId: sid }).length > 0, 'messages-consumed');
    const refusedPayloads = t
      .of({ event: 'out:error', sessionId: sid })
      .filter((e) => (e.payload as { code?: string }).code === 'rate-limited');
    const attempted = t.of({ event: 'message', sessionId: sid }).slice(messagesBefore);
    await hub.hub.services.limits.setOverrides(NS, { socketBytesPerSec: null });
    // Two keep-alives later (the CLI sends one every 2 s) the socket is still the same and no
    // refused message came again.
    const alivesAfter = t.of({ event: 'session-alive', sessionId: sid }).length + 2;
    await t.waitFor(
      () => t.of({ event: 'session-alive', sessionId: sid }).length >= alivesAfter,
      'two more keep-alives',
    );
    const afterLift = t.of({ event: 'message', sessionId: sid }).slice(messagesBefore + attempted.length);
    const payloadsOf = (entries: typeof attempted) =>
      entries.map((e) => JSON.stringify((e.payload as { message: unknown }).message));
    const resent = payloadsOf(afterLift).filter((p) => payloadsOf(attempted).slice(1).includes(p));
    const logs = filesUnder(runner.home)
      .filter((path) => path.endsWith('.log'))
      .map((path) => readFileSync(path, 'utf8'))
      .join('\n');
    console.log(
      `[limits interop] CLI message events while limited: ${attempted.length}, refused (error events): ${refusedPayloads.length}, re-sent after the lift: ${resent.length}, CLI disconnects: ${t.of({ event: 'disconnect', sessionId: sid }).length}, logs mention the refusal: ${/rate limit|rate-limited/i.test(logs)}`,
    );
    expect(attempted.length).toBeGreaterThan(1);
    expect(refusedPayloads.length).toBeGreaterThan(0);
    expect(resent).toEqual([]);
    // What it does instead: it writes the `error` event to its log.
    expect(logs).toMatch(/rate limit|rate-limited/i);
    expect(t.of({ event: 'disconnect', sessionId: sid })).toEqual([]);
    // The web sees the prompt, and only what the hub accepted of the reply.
    const page = await web.get(`/api/sessions/${sid}/messages?limit=50`);
    expect(page.status).toBe(200);
  });
});
