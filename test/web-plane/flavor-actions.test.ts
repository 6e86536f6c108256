// The routes the 0.30.7 web app calls only for some agents, with Socket.IO stand-ins for the CLI
// and runner: collaboration-mode, copilot-agent-mode, clear, codex/plan/implement,
// cursor-chat-store, migrate-to-acp, title-suggestion, machine opencode-model-variants, and the
// flavor refusals of pi-models and switch — each with upstream 0.30.7's statuses and bodies.
import { describe, expect, it } from 'vitest';
import { emitAck } from '../helpers/cli-client.js';
import { sessionMetadata } from '../helpers/fixtures.js';
import { NO_ANSWER, useWebWorld, type WebTenant } from '../helpers/web-world.js';

// implement-codex-plan / clear-conversation use the long RPC timeout: short here.
const world = useWebWorld({ rpcLongTimeoutMs: 500 });

const shared = { capabilities: { concurrentClients: true } };

async function controlled(tenant: WebTenant, flavor: string) {
  const live = await tenant.liveSession({ metadata: sessionMetadata({ flavor }) });
  const ack = await emitAck<{ result: string }>(live.socket, 'update-state', {
    sid: live.session.id,
    expectedVersion: live.session.agentStateVersion,
    agentState: { controlledByUser: true },
  });
  expect(ack.result).toBe('success');
  return live;
}

describe('collaboration-mode (Codex) and copilot-agent-mode (Copilot)', () => {
  it('forward set-session-config and show the applied mode', async () => {
    const { alice } = world;
    const codex = await alice.liveSession({ metadata: sessionMetadata({ flavor: 'codex' }) });
    await codex.rpc.serve('set-session-config', (params) => ({ applied: params }));
    const res = await alice.api.post(`/api/sessions/${codex.session.id}/collaboration-mode`, { mode: 'plan' });
    expect(res).toMatchObject({ status: 200, body: { ok: true } });
    expect(codex.rpc.calls).toEqual([{ name: 'set-session-config', params: { collaborationMode: 'plan' } }]);
    expect((await alice.api.get(`/api/sessions/${codex.session.id}`)).body.session.collaborationMode).toBe('plan');
    expect((await alice.api.post(`/api/sessions/${codex.session.id}/collaboration-mode`, { mode: 'x' })).status).toBe(
      400,
    );
    codex.rpc.handle('set-session-config', () => ({ error: 'not now' }));
    expect(
      await alice.api.post(`/api/sessions/${codex.session.id}/collaboration-mode`, { mode: 'default' }),
    ).toMatchObject({ status: 409, body: { error: 'not now' } });

    const copilot = await alice.liveSession({ metadata: sessionMetadata({ flavor: 'copilot' }) });
    await copilot.rpc.serve('set-session-config', (params) => ({ applied: params }));
    // The legacy `fleet` is read as `interactive`.
    const set = await alice.api.post(`/api/sessions/${copilot.session.id}/copilot-agent-mode`, { mode: 'fleet' });
    expect(set).toMatchObject({ status: 200, body: { ok: true } });
    expect(copilot.rpc.calls.map((c) => c.params)).toEqual([{ copilotAgentMode: 'interactive' }]);
    const session = (await alice.api.get(`/api/sessions/${copilot.session.id}`)).body.session;
    expect(session.metadata.preferredCopilotAgentMode).toBe('interactive');
  });

  it('refuse other flavors (400), terminal-controlled sessions (409) and inactive ones (409)', async () => {
    const { alice } = world;
    const claude = await alice.liveSession();
    expect(
      await alice.api.post(`/api/sessions/${claude.session.id}/collaboration-mode`, { mode: 'plan' }),
    ).toMatchObject({
      status: 400,
      body: { error: 'Collaboration mode is only supported for Codex sessions' },
    });
    expect(
      await alice.api.post(`/api/sessions/${claude.session.id}/copilot-agent-mode`, { mode: 'plan' }),
    ).toMatchObject({
      status: 400,
      body: { error: 'Copilot agent mode is only supported for Copilot sessions' },
    });
    const terminal = await controlled(alice, 'codex');
    expect(
      await alice.api.post(`/api/sessions/${terminal.session.id}/collaboration-mode`, { mode: 'plan' }),
    ).toMatchObject({
      status: 409,
      body: { error: 'Collaboration mode can only be changed for remote Codex sessions' },
    });
    const idle = await alice.session({ metadata: sessionMetadata({ flavor: 'codex' }) });
    expect(await alice.api.post(`/api/sessions/${idle.id}/collaboration-mode`, { mode: 'plan' })).toMatchObject({
      status: 409,
      body: { code: 'session_inactive' },
    });
    expect(terminal.rpc.calls).toEqual([]);
  });
});

describe('clear (shared runtimes)', () => {
  it('answers the replacement session the shared runtime registered; other sessions get 409', async () => {
    const { alice } = world;
    const plain = await alice.liveSession();
    expect(await alice.api.post(`/api/sessions/${plain.session.id}/clear`)).toMatchObject({
      status: 409,
      body: { error: 'Shared session required' },
    });
    const runtime = { flavor: 'codex', machineId: 'm-shared', hostPid: 4242, ...shared };
    const source = await alice.liveSession({ metadata: sessionMetadata({ ...runtime, codexSessionId: 'thread-1' }) });
    const replacement = await alice.session({ metadata: sessionMetadata({ ...runtime, codexSessionId: 'thread-2' }) });
    await source.rpc.serve('clear-conversation', () => ({ sessionId: replacement.id }));
    const res = await alice.api.post(`/api/sessions/${source.session.id}/clear`);
    expect(res).toMatchObject({ status: 200, body: { sessionId: replacement.id } });
    expect(source.rpc.calls).toEqual([{ name: 'clear-conversation', params: {} }]);
  });
});

describe('codex/plan/implement (shared Codex)', () => {
  it("forwards implement-codex-plan {planId}; the CLI's code picks the status", async () => {
    const { alice } = world;
    const claude = await alice.liveSession();
    expect(
      await alice.api.post(`/api/sessions/${claude.session.id}/codex/plan/implement`, { planId: 'p' }),
    ).toMatchObject({
      status: 409,
      body: { ok: false, code: 'unavailable', error: 'An active shared Codex session is required' },
    });
    const codex = await alice.liveSession({ metadata: sessionMetadata({ flavor: 'codex', ...shared }) });
    const path = `/api/sessions/${codex.session.id}/codex/plan/implement`;
    expect((await alice.api.post(path, {})).status).toBe(400);
    await codex.rpc.serve('implement-codex-plan', () => ({ ok: true }));
    expect(await alice.api.post(path, { planId: 'plan-7' })).toMatchObject({ status: 200, body: { ok: true } });
    expect(codex.rpc.calls).toEqual([{ name: 'implement-codex-plan', params: { planId: 'plan-7' } }]);
    codex.rpc.handle('implement-codex-plan', () => ({ ok: false, code: 'failed', error: 'turn failed' }));
    expect((await alice.api.post(path, { planId: 'p' })).status).toBe(502);
    codex.rpc.handle('implement-codex-plan', () => ({ ok: false, code: 'stale', error: 'old plan' }));
    expect((await alice.api.post(path, { planId: 'p' })).status).toBe(409);
    codex.rpc.handle('implement-codex-plan', () => NO_ANSWER);
    expect(await alice.api.post(path, { planId: 'p' })).toMatchObject({
      status: 503,
      body: { ok: false, code: 'indeterminate' },
    });
  });
});

describe('Cursor: cursor-chat-store and migrate-to-acp', () => {
  it("cursor-chat-store asks the session's machine; refuses sessions without Cursor resume metadata", async () => {
    const { alice } = world;
    const claude = await alice.session();
    expect(await alice.api.get(`/api/sessions/${claude.id}/cursor-chat-store`)).toMatchObject({
      status: 409,
      body: { error: 'Cursor resume metadata is unavailable', code: 'resume_unavailable' },
    });
    const runner = await alice.runner();
    const cursor = { flavor: 'cursor', cursorSessionId: 'chat-1', homeDir: '/home/u' };
    const offline = await alice.session({ metadata: sessionMetadata({ ...cursor, machineId: 'gone' }) });
    expect(await alice.api.get(`/api/sessions/${offline.id}/cursor-chat-store`)).toMatchObject({
      status: 503,
      body: { code: 'no_machine_online' },
    });
    const session = await alice.session({ metadata: sessionMetadata({ ...cursor, machineId: runner.machine.id }) });
    await runner.rpc.serve('cursor-chat-store-status', () => ({ onDisk: true, store: 'legacy' }));
    expect(await alice.api.get(`/api/sessions/${session.id}/cursor-chat-store`)).toMatchObject({
      status: 200,
      body: { onDisk: true, store: 'legacy' },
    });
    expect(runner.rpc.calls).toEqual([
      {
        name: 'cursor-chat-store-status',
        params: { workspacePath: '/work/project', cursorSessionId: 'chat-1', homeDir: '/home/u' },
      },
    ]);
    runner.rpc.handle('cursor-chat-store-status', () => ({ onDisk: 'yes' }));
    expect(await alice.api.get(`/api/sessions/${session.id}/cursor-chat-store`)).toMatchObject({
      status: 502,
      body: { code: 'probe_failed' },
    });
  });

  it("migrate-to-acp answers upstream's refusal outcomes", async () => {
    const { alice } = world;
    const migrate = (sid: string, body?: unknown) => alice.api.post(`/api/sessions/${sid}/migrate-to-acp`, body);
    const claude = await alice.session();
    expect(await migrate(claude.id, {})).toMatchObject({
      status: 409,
      body: { ok: false, sessionId: claude.id, reason: 'not_cursor_session' },
    });
    expect((await migrate(claude.id, { keepSource: 'yes' })).status).toBe(400);
    const acp = await alice.session({ metadata: sessionMetadata({ flavor: 'cursor', cursorSessionProtocol: 'acp' }) });
    expect((await migrate(acp.id, {})).body.reason).toBe('already_acp');
    const noId = await alice.session({ metadata: sessionMetadata({ flavor: 'cursor' }) });
    expect((await migrate(noId.id, {})).body.reason).toBe('no_cursor_session_id');
    const running = await alice.session({ metadata: sessionMetadata({ flavor: 'cursor', cursorSessionId: 'c1' }) });
    expect((await migrate(running.id, {})).body.reason).toBe('running_refused');
    const archived = await alice.session({
      metadata: sessionMetadata({ flavor: 'cursor', cursorSessionId: 'c1', lifecycleState: 'archived' }),
    });
    expect(await migrate(archived.id, {})).toMatchObject({ status: 500, body: { reason: 'cross_host_session' } });
  });
});

describe('title-suggestion, opencode-model-variants, pi-models, switch', () => {
  it('title-suggestion: no title provider here (503); unknown session 404', async () => {
    const { alice } = world;
    const session = await alice.session();
    expect(await alice.api.post(`/api/sessions/${session.id}/title-suggestion`)).toMatchObject({
      status: 503,
      body: { error: 'Title suggestions are not configured on this Hub' },
    });
    expect((await alice.api.post('/api/sessions/nope/title-suggestion')).status).toBe(404);
  });

  it("opencode-model-variants forwards {cwd} to the machine's runner", async () => {
    const { alice } = world;
    const runner = await alice.runner();
    await runner.rpc.serve('listOpencodeModelVariants', () => ({ success: true, variants: { m: ['low', 'high'] } }));
    const path = `/api/machines/${runner.machine.id}/opencode-model-variants`;
    expect(await alice.api.get(`${path}?cwd=${encodeURIComponent('/w')}`)).toMatchObject({
      status: 200,
      body: { success: true, variants: { m: ['low', 'high'] } },
    });
    expect((await alice.api.get(path)).status).toBe(200);
    expect(runner.rpc.calls.map((c) => c.params)).toEqual([{ cwd: '/w' }, { cwd: null }]);
    const bare = await alice.runner();
    expect(await alice.api.get(`/api/machines/${bare.machine.id}/opencode-model-variants`)).toMatchObject({
      status: 503,
      body: { success: false, code: 'rpc_target_missing' },
    });
  });

  it('pi-models refuses non-Pi sessions; switch refuses shared sessions', async () => {
    const { alice } = world;
    const claude = await alice.liveSession();
    expect(await alice.api.get(`/api/sessions/${claude.session.id}/pi-models`)).toMatchObject({
      status: 400,
      body: { success: false, error: 'Not a Pi session' },
    });
    const runtime = await alice.liveSession({ metadata: sessionMetadata({ flavor: 'codex', ...shared }) });
    expect(await alice.api.post(`/api/sessions/${runtime.session.id}/switch`)).toMatchObject({
      status: 409,
      body: { error: 'Shared sessions do not switch modes', code: 'control_mode_not_applicable' },
    });
    expect(runtime.rpc.calls).toEqual([]);
  });
});
