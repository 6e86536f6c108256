// Interop: a real `hapi claude` session, spawned by the real runner through our hub, with a
// stand-in `claude` first on the runner's PATH (see FAKE_CLAUDE_SCRIPT in helpers/hapi-cli.ts).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureHapiCli, HapiProcesses, isAlive, pollUntil, type HapiProcess } from '../helpers/hapi-cli.js';
import {
  announceSkip,
  startInteropHub,
  startStandInRunner,
  type WebClient,
  type InteropHub,
  type SseRecorder,
} from './support.js';

const cli = await ensureHapiCli();
announceSkip('session interop', cli.reason);

const NS = 'carol';
// Short enough for the SIGKILL case to expire quickly, long enough for the CLI's 2 s keep-alive.
const SESSION_TTL_MS = 6_000;

describe.skipIf(!cli.bin)('real hapi claude session against our hub (memory engine)', { timeout: 90_000 }, () => {
  let hub: InteropHub;
  let procs: HapiProcesses;
  let workspace: string;
  let fakeLog: string;
  let runner: HapiProcess;
  let machineId: string;
  let web: WebClient;
  let sse: SseRecorder;
  let sid: string;

  async function spawnSession(): Promise<string> {
    const res = await web.post(`/api/machines/${machineId}/spawn`, { directory: workspace, agent: 'claude' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.type, JSON.stringify(res.body)).toBe('success');
    const id = res.body.sessionId as string;
    await pollUntil(async () => (await web.session(id)).active === true, `session ${id} active`);
    return id;
  }

  beforeAll(async () => {
    hub = await startInteropHub({ sessionTtlMs: SESSION_TTL_MS });
    procs = new HapiProcesses(cli.bin!);
    workspace = procs.tempDir('workspace');
    // A git repository with one committed file, one change and one nested file, for the
    // session's file/git RPCs.
    writeFileSync(join(workspace, 'README.md'), 'hello readme\n');
    mkdirSync(join(workspace, 'src'));
    writeFileSync(join(workspace, 'src', 'main.ts'), 'export const x = 1;\n');
    const gitEnv = {
      PATH: '/usr/bin:/bin',
      HOME: workspace,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.invalid',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.invalid',
    };
    for (const args of [
      ['init', '-q'],
      ['add', '.'],
      ['commit', '-qm', 'init'],
    ])
      execFileSync('git', args, { cwd: workspace, env: gitEnv });
    writeFileSync(join(workspace, 'README.md'), 'hello readme\nchanged\n');
    fakeLog = join(procs.tempDir('logs'), 'fake-claude.log');
    ({ runner, machineId, web } = await startStandInRunner(procs, hub, NS, workspace, { FAKE_CLAUDE_LOG: fakeLog }));
    sse = await web.events({ all: 'true' });
  }, 90_000);

  afterAll(async () => {
    sse?.close();
    await procs?.cleanup();
    await hub?.close();
  });

  it('spawn succeeds and the real CLI registers the session over the CLI plane', async () => {
    sid = await spawnSession();
    const t = hub.traffic;
    // Keep-alives every 2 s: wait for a second one.
    await t.waitFor(() => t.of({ event: 'session-alive', sessionId: sid }).length >= 2, 'two session-alive');

    const connects = t.of({ event: 'connect', sessionId: sid });
    expect(connects).toHaveLength(1);
    expect(connects[0]!.auth).toMatchObject({ clientType: 'session-scoped', sessionId: sid });

    const methods = t
      .of({ event: 'rpc-register', sessionId: sid })
      .map((e) => (e.payload as { method: string }).method);
    for (const name of ['killSession', 'abort', 'permission', 'switch', 'set-session-config'])
      expect(methods).toContain(`${sid}:${name}`);
    expect(methods.every((m) => m.startsWith(`${sid}:`))).toBe(true);

    // Versioned writes: each expectedVersion is the version the previous ack returned.
    const metaVersions = t
      .of({ event: 'update-metadata', sessionId: sid })
      .map((e) => (e.payload as { expectedVersion: number }).expectedVersion);
    expect(metaVersions.length).toBeGreaterThanOrEqual(2);
    expect(metaVersions).toEqual(metaVersions.map((_, i) => i + 1));
    const stateVersions = t
      .of({ event: 'update-state', sessionId: sid })
      .map((e) => (e.payload as { expectedVersion: number }).expectedVersion);
    expect(stateVersions[0]).toBe(1);

    const session = await web.session(sid);
    expect(session.metadataVersion).toBe(metaVersions.at(-1)! + 1);
    expect(session.agentStateVersion).toBe(stateVersions.at(-1)! + 1);
    expect(session.metadata).toMatchObject({
      path: workspace,
      flavor: 'claude',
      startedBy: 'runner',
      machineId,
      lifecycleState: 'running',
      // written by the CLI after running the stand-in's catalogue query
      tools: ['Bash'],
    });
    expect(isAlive(session.metadata.hostPid)).toBe(true);
    expect(session.agentState).toMatchObject({ controlledByUser: false });
  });

  it('is listed active over REST and announced on SSE', async () => {
    const summary = (await web.sessions()).find((s) => s.id === sid);
    expect(summary).toMatchObject({ id: sid, active: true });
    const added = await sse.waitFor('session-added', (e) => e.sessionId === sid);
    expect(added.data).toMatchObject({ id: sid, namespace: NS });
    await sse.waitFor('session-updated', (e) => e.sessionId === sid && e.data?.metadata?.value?.tools !== undefined);
    await sse.waitFor('session-updated', (e) => e.sessionId === sid && e.data?.active === true);
  });

  it('a web prompt reaches the CLI, is consumed, and the agent reply comes back', async () => {
    const localId = `web-${Date.now()}`;
    const sent = await web.post(`/api/sessions/${sid}/messages`, { text: 'hello from the web', localId });
    expect(sent).toEqual({ status: 200, body: { ok: true } });

    const t = hub.traffic;
    await t.waitFor(
      () =>
        t
          .of({ event: 'messages-consumed', sessionId: sid })
          .some((e) => (e.payload as { localIds: string[] }).localIds.includes(localId)),
      'messages-consumed from the CLI',
    );
    // It reached the CLI as update/new-message carrying the localId.
    const delivered = t
      .of({ event: 'out:update', sessionId: sid })
      .map((e) => e.payload as { body: { t: string; message?: { localId: string | null } } });
    expect(delivered.some((u) => u.body.t === 'new-message' && u.body.message?.localId === localId)).toBe(true);
    const consumed = await sse.waitFor('messages-consumed', (e) => e.sessionId === sid && e.localIds.includes(localId));
    expect(typeof consumed.invokedAt).toBe('number');
    // The stand-in agent got the prompt on its stdin...
    await pollUntil(() => readFileSync(fakeLog, 'utf8').includes('hello from the web'), 'prompt on the agent stdin');
    // ...and its reply came back through the CLI as an agent message.
    const reply = await sse.waitFor(
      'message-received',
      (e) =>
        e.sessionId === sid &&
        e.message.content?.role === 'agent' &&
        JSON.stringify(e.message.content).includes('fake reply'),
    );
    expect(reply.message.seq).toBeGreaterThan(1);

    const page = await web.get(`/api/sessions/${sid}/messages?limit=50`);
    expect(page.status).toBe(200);
    const rows = page.body.messages as { localId: string | null; invokedAt: number | null; content: any }[];
    const prompt = rows.find((m) => m.localId === localId)!;
    expect(prompt.content).toMatchObject({ role: 'user', content: { type: 'text', text: 'hello from the web' } });
    expect(prompt.invokedAt).toBe(consumed.invokedAt);
    expect(rows.some((m) => m.content?.role === 'agent')).toBe(true);
  });

  it("the session's file and git routes get the real CLI's answers (git-status, diffs, file, directory, files, upload)", async () => {
    const get = async (path: string) => {
      const res = await web.get(`/api/sessions/${sid}${path}`);
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(200);
      return res.body;
    };
    const status = await get('/git-status');
    expect(status).toMatchObject({ success: true, exitCode: 0 });
    expect(status.stdout).toMatch(/^1 \.M .* README\.md$/m);
    expect(await get('/git-diff-numstat')).toMatchObject({ success: true, stdout: '1\t0\tREADME.md\n' });
    expect(await get('/git-diff-numstat?staged=true')).toMatchObject({ success: true, stdout: '' });
    expect((await get('/git-diff-file?path=README.md')).stdout).toContain('+changed');
    const file = await get('/file?path=README.md');
    expect(file).toMatchObject({ success: true, size: 21 });
    expect(Buffer.from(file.content, 'base64').toString('utf8')).toBe('hello readme\nchanged\n');
    const root = await get('/directory');
    expect((root.entries as { name: string; type: string }[]).map((e) => `${e.type}:${e.name}`).sort()).toEqual([
      'directory:.git',
      'directory:src',
      'file:README.md',
    ]);
    expect((await get('/directory?path=src')).entries.map((e: { name: string }) => e.name)).toEqual(['main.ts']);
    const files = await get('/files?query=main');
    expect(files).toMatchObject({
      success: true,
      files: [{ fileName: 'main.ts', filePath: 'src', fullPath: 'src/main.ts', fileType: 'file', size: 20 }],
    });
    expect((await get('/skills')).success).toBe(true);
    expect((await get('/slash-commands')).commands.map((c: { name: string }) => c.name)).toContain('compact');

    const upload = await web.post(`/api/sessions/${sid}/upload`, {
      filename: 'note.txt',
      content: Buffer.from('uploaded!').toString('base64'),
      mimeType: 'text/plain',
    });
    expect(upload.status).toBe(200);
    expect(upload.body).toMatchObject({ success: true, path: expect.stringMatching(/note\.txt$/) });
    expect(readFileSync(upload.body.path, 'utf8')).toBe('uploaded!');
    const removed = await web.post(`/api/sessions/${sid}/upload/delete`, { path: upload.body.path });
    expect(removed).toEqual({ status: 200, body: { success: true } });
  });

  async function toolRequest(): Promise<{ id: string; request: any }> {
    const before = Object.keys((await web.session(sid)).agentState?.requests ?? {});
    const sent = await web.post(`/api/sessions/${sid}/messages`, {
      text: 'run it FAKE_TOOL_REQUEST',
      localId: `tool-${Date.now()}`,
    });
    expect(sent.status).toBe(200);
    return pollUntil(async () => {
      const requests = (await web.session(sid)).agentState?.requests ?? {};
      const id = Object.keys(requests).find((k) => !before.includes(k));
      return id ? { id, request: requests[id] } : undefined;
    }, 'a pending permission request in agentState');
  }

  it('a tool permission request (CLI update-state) is approved from the web (RPC permission) and the agent proceeds', async () => {
    const { id, request } = await toolRequest();
    expect(request).toMatchObject({ tool: 'Bash', arguments: { command: expect.stringMatching(/^echo interop-/) } });
    await sse.waitFor(
      'session-updated',
      (e) => e.sessionId === sid && e.data?.agentState?.value?.requests?.[id] !== undefined,
    );

    const res = await web.post(`/api/sessions/${sid}/permissions/${id}/approve`, {});
    expect(res).toEqual({ status: 200, body: { ok: true } });
    expect(
      hub.traffic
        .of({ event: 'out:rpc-request', sessionId: sid })
        .some((e) => (e.payload as { method: string }).method === `${sid}:permission`),
    ).toBe(true);
    await sse.waitFor(
      'message-received',
      (e) => e.sessionId === sid && JSON.stringify(e.message.content).includes('tool allowed'),
    );
    const state = await pollUntil(async () => {
      const s = await web.session(sid);
      return s.agentState?.completedRequests?.[id] ? s.agentState : undefined;
    }, 'completedRequests');
    expect(state.requests?.[id]).toBeUndefined();
    expect(state.completedRequests[id]).toMatchObject({ tool: 'Bash', status: 'approved' });
  });

  it('a tool permission request is denied from the web and the agent is told', async () => {
    const { id } = await toolRequest();
    const res = await web.post(`/api/sessions/${sid}/permissions/${id}/deny`, {});
    expect(res).toEqual({ status: 200, body: { ok: true } });
    await sse.waitFor(
      'message-received',
      (e) => e.sessionId === sid && JSON.stringify(e.message.content).includes('tool denied'),
    );
    const state = await pollUntil(async () => {
      const s = await web.session(sid);
      return s.agentState?.completedRequests?.[id] ? s.agentState : undefined;
    }, 'completedRequests');
    expect(state.completedRequests[id]).toMatchObject({ status: 'denied' });
    const unknown = await web.post(`/api/sessions/${sid}/permissions/${id}/approve`, {});
    expect(unknown.status).toBe(404);
  });

  it('permission-mode and model changes reach the CLI (set-session-config) and come back in its keep-alives', async () => {
    const mode = await web.post(`/api/sessions/${sid}/permission-mode`, { mode: 'acceptEdits' });
    expect(mode).toEqual({ status: 200, body: { ok: true } });
    const model = await web.post(`/api/sessions/${sid}/model`, { model: 'sonnet' });
    expect(model).toEqual({ status: 200, body: { ok: true } });
    const calls = hub.traffic
      .of({ event: 'out:rpc-request', sessionId: sid })
      .filter((e) => (e.payload as { method: string }).method === `${sid}:set-session-config`);
    expect(calls.map((e) => JSON.parse((e.payload as { params: string }).params))).toEqual([
      { permissionMode: 'acceptEdits' },
      { model: 'sonnet' },
    ]);
    const t = hub.traffic;
    await t.waitFor(
      () =>
        t
          .of({ event: 'session-alive', sessionId: sid })
          .some((e) => (e.payload as any).permissionMode === 'acceptEdits' && (e.payload as any).model === 'sonnet'),
      'a keep-alive carrying the new mode and model',
    );
    const session = await web.session(sid);
    expect(session).toMatchObject({ permissionMode: 'acceptEdits', model: 'sonnet' });
    expect(session.metadata.preferredPermissionMode).toBe('acceptEdits');
  });

  it('abort reaches the CLI abort handler', async () => {
    const res = await web.post(`/api/sessions/${sid}/abort`, {});
    expect(res).toEqual({ status: 200, body: { ok: true } });
    expect(
      hub.traffic
        .of({ event: 'out:rpc-request', sessionId: sid })
        .some((e) => (e.payload as { method: string }).method === `${sid}:abort`),
    ).toBe(true);
    // Still alive and usable afterwards.
    expect((await web.session(sid)).active).toBe(true);
  });

  it("a rename from the web survives the CLI's next metadata write (version-mismatch, adopt, retry)", async () => {
    const before = await web.session(sid);
    const renamed = await web.request('PATCH', `/api/sessions/${sid}`, { name: 'Renamed from the web' });
    expect(renamed).toEqual({ status: 200, body: { ok: true } });
    // Hub-side writes are not pushed to the CLI (as upstream): its next update-metadata carries a
    // stale expectedVersion, gets version-mismatch with the stored value, and retries on top of it.
    const after = await web.session(sid);
    expect(after.metadataVersion).toBe(before.metadataVersion + 1);
    expect(
      hub.traffic
        .of({ event: 'out:update', sessionId: sid })
        .filter(
          (e) => (e.payload as any).body?.t === 'update-session' && (e.payload as any).body?.metadata?.value?.name,
        ),
    ).toEqual([]);
  });

  it('archive reaches the CLI killSession handler and the session ends', async () => {
    const hostPid = (await web.session(sid)).metadata.hostPid as number;
    const storedVersion = (await web.session(sid)).metadataVersion;
    const res = await web.post(`/api/sessions/${sid}/archive`, {});
    expect(res).toEqual({ status: 200, body: { ok: true } });

    const t = hub.traffic;
    await t.waitFor(() => t.of({ event: 'session-end', sessionId: sid }).length > 0, 'session-end from the CLI');
    expect(t.of({ event: 'session-end', sessionId: sid })[0]!.payload).toMatchObject({ sid, reason: 'terminated' });
    await sse.waitFor('session-ended', (e) => e.sessionId === sid);
    await sse.waitFor('session-updated', (e) => e.sessionId === sid && e.data?.active === false);

    const session = await pollUntil(async () => {
      const s = await web.session(sid);
      return s.metadata?.lifecycleState === 'archived' ? s : undefined;
    }, 'archived metadata');
    expect(session.active).toBe(false);
    // The CLI's archive write was refused once (stale version), then applied on top of the rename.
    expect(session.metadata).toMatchObject({ archivedBy: 'cli', name: 'Renamed from the web' });
    const writes = t
      .of({ event: 'update-metadata', sessionId: sid })
      .map((e) => (e.payload as { expectedVersion: number }).expectedVersion);
    expect(writes.at(-2)).toBeLessThan(storedVersion);
    expect(writes.at(-1)).toBe(storedVersion);
    expect(session.metadataVersion).toBe(storedVersion + 1);
    await pollUntil(() => !isAlive(hostPid), 'the hapi claude process exits');
  });

  it('resume of the archived session spawns the agent again with its resume token (new hub session, as the real claude CLI does)', async () => {
    const archived = await web.session(sid);
    const claudeSessionId = archived.metadata.claudeSessionId as string;
    expect(typeof claudeSessionId).toBe('string');
    const res = await web.post(`/api/sessions/${sid}/resume`, {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.type).toBe('success');
    // `hapi claude --resume <id>` (the runner passes --existing-session-id only for other flavors)
    // registers a NEW hub session; the route answers with that id, as upstream may.
    const resumed = res.body.sessionId as string;
    expect(resumed).not.toBe(sid);
    const spawnCall = hub.traffic
      .of({ event: 'out:rpc-request', machineId })
      .map((e) => e.payload as { method: string; params: string })
      .filter((p) => p.method === `${machineId}:spawn-happy-session`)
      .map((p) => JSON.parse(p.params))
      .find((p) => p.resumeSessionId !== undefined);
    expect(spawnCall).toMatchObject({
      type: 'spawn-in-directory',
      directory: workspace,
      agent: 'claude',
      resumeSessionId: claudeSessionId,
      existingSessionId: sid,
    });
    const session = await web.session(resumed);
    expect(session).toMatchObject({
      active: true,
      metadata: { path: workspace, flavor: 'claude', startedBy: 'runner' },
    });
    // The agent itself starts on the first prompt, with the resume token.
    const sent = await web.post(`/api/sessions/${resumed}/messages`, {
      text: 'continue please',
      localId: `resume-${Date.now()}`,
    });
    expect(sent.status).toBe(200);
    await pollUntil(
      () => readFileSync(fakeLog, 'utf8').includes(`--resume ${claudeSessionId}`),
      'agent started with --resume',
    );
    await sse.waitFor(
      'message-received',
      (e) => e.sessionId === resumed && JSON.stringify(e.message.content).includes('fake reply'),
    );
  });

  it("`hapi claude` started from a terminal on the runner's machine registers its session without disturbing the machine", async () => {
    const before = await web.machine(machineId);
    const known = new Set((await web.sessions()).map((x) => x.id));
    const term = procs.spawn(['claude', '--hapi-starting-mode', 'remote'], {
      hubUrl: hub.url,
      token: hub.tokenFor(NS),
      home: runner.home,
      cwd: workspace,
      pathPrepend: [procs.fakeBin],
      env: { FAKE_CLAUDE_LOG: fakeLog },
    });
    const created = await pollUntil(
      async () => (await web.sessions()).find((x) => !known.has(x.id) && x.active),
      'terminal session active',
    );
    const session = await web.session(created.id);
    expect(session.metadata).toMatchObject({ startedBy: 'terminal', machineId, path: workspace, flavor: 'claude' });
    // Its POST /cli/machines (runnerState null) merged into the runner's registration: no change.
    const after = await web.machine(machineId);
    expect(after.metadata).toEqual(before.metadata);
    expect(after.runnerState.status).toBe('running');
    await term.stop('SIGTERM');
    await sse.waitFor('session-ended', (e) => e.sessionId === created.id);
  });

  it('SIGTERM to the agent process: the CLI archives itself and reports session-end terminated', async () => {
    const id = await spawnSession();
    const hostPid = (await web.session(id)).metadata.hostPid as number;
    process.kill(hostPid, 'SIGTERM');
    const t = hub.traffic;
    await t.waitFor(() => t.of({ event: 'session-end', sessionId: id }).length > 0, 'session-end');
    expect(t.of({ event: 'session-end', sessionId: id })[0]!.payload).toMatchObject({ sid: id, reason: 'terminated' });
    await sse.waitFor('session-ended', (e) => e.sessionId === id);
    const session = await pollUntil(async () => {
      const s = await web.session(id);
      return s.metadata?.lifecycleState === 'archived' && !s.active ? s : undefined;
    }, 'archived and inactive');
    expect(session.metadata.archiveReason).toBe('Hub restart');
    await pollUntil(() => !isAlive(hostPid), 'process exit');
  });

  it('SIGKILL to the agent process: nothing is sent; keep-alive expiry makes it inactive (no session-ended), as upstream', async () => {
    const id = await spawnSession();
    const hostPid = (await web.session(id)).metadata.hostPid as number;
    const killedAt = Date.now();
    process.kill(hostPid, 'SIGKILL');
    const expired = await sse.waitFor(
      'session-updated',
      (e) => e.sessionId === id && e.data?.active === false,
      SESSION_TTL_MS + 15_000,
    );
    expect(expired.data).toEqual({ active: false });
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(SESSION_TTL_MS - 2_500);
    expect(sse.of('session-ended', (e) => e.sessionId === id)).toEqual([]);
    expect(hub.traffic.of({ event: 'session-end', sessionId: id })).toEqual([]);
    const session = await web.session(id);
    expect(session.active).toBe(false);
    expect(session.metadata.lifecycleState).toBe('running');
  });

  it("the hub never sent an error event to any of the real CLI's sockets", () => {
    expect(hub.traffic.of({ event: 'out:error' })).toEqual([]);
  });
});
