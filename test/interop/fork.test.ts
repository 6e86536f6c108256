// Interop: fork of a real `hapi claude` session (stand-in `claude` from helpers/hapi-cli.ts) through
// our hub: the CLI's fork-conversation, then the child spawned by the real runner
// (spawn-happy-session with the source's Claude id and forkSession), bound to its own Claude id.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureHapiCli, HapiProcesses, pollUntil } from '../helpers/hapi-cli.js';
import { announceSkip, startInteropHub, startStandInRunner, WebClient, type InteropHub } from './support.js';

const cli = await ensureHapiCli();
announceSkip('fork interop', cli.reason);

const NS = 'forks';

describe.skipIf(!cli.bin)('fork of a real hapi claude session (memory engine)', { timeout: 150_000 }, () => {
  let hub: InteropHub;
  let procs: HapiProcesses;
  let workspace: string;
  let fakeLog: string;
  let machineId: string;
  let web: WebClient;

  beforeAll(async () => {
    hub = await startInteropHub({ sessionTtlMs: 6_000 });
    procs = new HapiProcesses(cli.bin!);
    workspace = procs.tempDir('workspace');
    fakeLog = join(procs.tempDir('logs'), 'fake-claude.log');
    ({ machineId, web } = await startStandInRunner(procs, hub, NS, workspace, { FAKE_CLAUDE_LOG: fakeLog }));
  }, 90_000);

  afterAll(async () => {
    await procs?.cleanup();
    await hub?.close();
  });

  it('forks the current conversation into a new session the runner starts', async () => {
    const spawn = await web.post(`/api/machines/${machineId}/spawn`, { directory: workspace, agent: 'claude' });
    expect(spawn.body.type, JSON.stringify(spawn.body)).toBe('success');
    const sid = spawn.body.sessionId as string;
    await pollUntil(
      async () => (await web.session(sid)).metadata?.capabilities?.conversationHistory !== undefined,
      'source active with its capabilities',
    );
    const source = await web.session(sid);
    // What the 0.30.7 Claude CLI offers: forking the current conversation only.
    expect(source.metadata.capabilities.conversationHistory).toEqual({ forkCurrent: true });

    expect((await web.post(`/api/sessions/${sid}/messages`, { text: 'before the fork', localId: 'p1' })).status).toBe(
      200,
    );
    await pollUntil(async () => {
      const page = await web.get(`/api/sessions/${sid}/messages`);
      return (
        JSON.stringify(page.body.messages).includes('fake reply') &&
        (await web.session(sid)).thinking === false &&
        typeof (await web.session(sid)).metadata.claudeSessionId === 'string'
      );
    }, 'the reply, the turn over and the Claude id bound');
    const sourceNative = (await web.session(sid)).metadata.claudeSessionId as string;

    const fork = await web.post(`/api/sessions/${sid}/fork`, {});
    expect(fork.status, JSON.stringify(fork.body)).toBe(200);
    const childId = fork.body.sessionId as string;
    expect(childId).not.toBe(sid);

    const child = await web.session(childId);
    expect(child.metadata).toMatchObject({
      path: workspace,
      machineId,
      flavor: 'claude',
      forkedFrom: sid,
      startedBy: 'runner',
    });
    expect(child.metadata.claudeSessionId).toEqual(expect.any(String));
    expect(child.metadata.claudeSessionId).not.toBe(sourceNative);
    expect(child.active).toBe(true);
    // The child started from the source's Claude conversation, forked (not resumed in place).
    const log = readFileSync(fakeLog, 'utf8');
    expect(log).toMatch(
      new RegExp(`--resume ${sourceNative}.*--fork-session|--fork-session.*--resume ${sourceNative}`),
    );
    // Its hub history is the source's transcript at the time of the fork.
    const sourceMessages = (await web.get(`/api/sessions/${sid}/messages`)).body.messages;
    const childMessages = (await web.get(`/api/sessions/${childId}/messages`)).body.messages;
    expect(childMessages.map((m: { content: unknown }) => m.content)).toEqual(
      sourceMessages.map((m: { content: unknown }) => m.content),
    );
    // The source goes on as it was.
    expect((await web.session(sid)).active).toBe(true);
  });

  it('the sessionSummaryContract hub setting reaches the real CLI, which instructs its agent', async () => {
    const owner = await WebClient.login(hub.url, hub.token);
    const put = await owner.request('PUT', '/api/hub-settings', { sessionSummaryContract: true });
    expect(put.body).toEqual({ sessionSummaryContract: true, sessionSummaryInChat: false });
    const before = readFileSync(fakeLog, 'utf8').length;
    const spawn = await web.post(`/api/machines/${machineId}/spawn`, { directory: workspace, agent: 'claude' });
    const sid = spawn.body.sessionId as string;
    await pollUntil(async () => (await web.session(sid)).active === true, 'session active');
    expect((await web.post(`/api/sessions/${sid}/messages`, { text: 'with a summary', localId: 's1' })).status).toBe(
      200,
    );
    await pollUntil(
      async () => JSON.stringify((await web.get(`/api/sessions/${sid}/messages`)).body.messages).includes('fake reply'),
      'the reply',
    );
    // The CLI read the setting from its session bootstrap and added upstream's instruction to the
    // agent's system prompt (the stand-in logs its arguments).
    expect(readFileSync(fakeLog, 'utf8').slice(before)).toContain('Session status summary:');
    await owner.request('PUT', '/api/hub-settings', { sessionSummaryContract: false });
  });
});
