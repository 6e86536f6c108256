// Permission decisions (approve/deny → RPC `permission`) and runtime config (permission-mode,
// model → RPC `set-session-config` when active, stored when inactive).
import { describe, expect, it } from 'vitest';
import { SessionSchema } from '../../src/protocol/models.js';
import { emitAck } from '../helpers/cli-client.js';
import { sessionMetadata } from '../helpers/fixtures.js';
import { NO_ANSWER, useWebWorld, type LiveSession, type WebTenant } from '../helpers/web-world.js';

const world = useWebWorld();

async function getSession(tenant: WebTenant, sid: string) {
  const response = await tenant.api.get(`/api/sessions/${sid}`);
  expect(response.status).toBe(200);
  return SessionSchema.parse(response.body.session);
}

/** The CLI reports a pending permission request through its versioned update-state. */
async function withPendingRequest(tenant: WebTenant, extra: Record<string, unknown> = {}): Promise<LiveSession> {
  const live = await tenant.liveSession(extra);
  const ack = await emitAck<{ result: string }>(live.socket, 'update-state', {
    sid: live.session.id,
    expectedVersion: live.session.agentStateVersion,
    agentState: { requests: { r1: { tool: 'Bash', arguments: { command: 'ls' }, createdAt: 1 } } },
  });
  expect(ack.result).toBe('success');
  return live;
}

const approvePath = (sid: string, rid = 'r1') => `/api/sessions/${sid}/permissions/${rid}/approve`;
const denyPath = (sid: string, rid = 'r1') => `/api/sessions/${sid}/permissions/${rid}/deny`;

describe('permissions approve/deny', () => {
  it('update-state request r1 → approve → CLI gets <sid>:permission {id, approved:true, …} → {ok:true}', async () => {
    const { alice } = world;
    const { session, rpc } = await withPendingRequest(alice);
    await rpc.serve('permission', () => ({ ok: true }));
    const body = {
      mode: 'acceptEdits',
      allowTools: ['Bash(ls)'],
      decision: 'approved_for_session',
      answers: { q1: ['yes'] },
    };
    const response = await alice.api.post(approvePath(session.id), body);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ok: true });
    expect(rpc.calls).toEqual([{ name: 'permission', params: { id: 'r1', approved: true, ...body } }]);

    // Absent body = {}; the other answers shape is accepted too; a CLI {error} is ignored.
    rpc.handle('permission', () => ({ error: 'already decided' }));
    expect((await alice.api.request('POST', approvePath(session.id))).body).toEqual({ ok: true });
    expect((await alice.api.post(approvePath(session.id), { answers: { q: { answers: ['a'] } } })).body).toEqual({
      ok: true,
    });
    expect(rpc.calls.slice(1).map((c) => c.params)).toEqual([
      { id: 'r1', approved: true },
      { id: 'r1', approved: true, answers: { q: { answers: ['a'] } } },
    ]);
  });

  it('deny sends {id, approved:false, decision}', async () => {
    const { alice } = world;
    const { session, rpc } = await withPendingRequest(alice);
    await rpc.serve('permission', () => ({ ok: true }));
    expect((await alice.api.post(denyPath(session.id), { decision: 'abort' })).body).toEqual({ ok: true });
    expect((await alice.api.request('POST', denyPath(session.id))).body).toEqual({ ok: true });
    expect(rpc.calls.map((c) => c.params)).toEqual([
      { id: 'r1', approved: false, decision: 'abort' },
      { id: 'r1', approved: false },
    ]);
  });

  it('check order and errors: 409 inactive, 400 body, 404 Request not found, 400 mode for flavor', async () => {
    const { alice } = world;
    const inactive = await alice.session({ agentState: { requests: { r1: { tool: 'Bash', arguments: {} } } } });
    expect(await alice.api.post(approvePath(inactive.id), { mode: 123 })).toMatchObject({
      status: 409,
      body: { code: 'session_inactive' },
    });
    expect(await alice.api.post(denyPath(inactive.id))).toMatchObject({
      status: 409,
      body: { code: 'session_inactive' },
    });

    const { session, rpc } = await withPendingRequest(alice);
    await rpc.serve('permission', () => ({ ok: true }));
    // approve: body is validated before the request lookup
    const badBody = await alice.api.post(approvePath(session.id, 'nope'), { allowTools: 'Bash' });
    expect(badBody.status).toBe(400);
    expect(badBody.body.error).toBe('Invalid body');
    expect(badBody.body.issues.length).toBeGreaterThan(0);
    expect(await alice.api.post(approvePath(session.id, 'nope'), {})).toMatchObject({
      status: 404,
      body: { error: 'Request not found' },
    });
    expect(await alice.api.post(approvePath(session.id), { mode: 'yolo' })).toMatchObject({
      status: 400,
      body: { error: 'Invalid permission mode for session flavor' },
    });
    // deny: the request lookup comes before the body
    expect(await alice.api.post(denyPath(session.id, 'nope'), { decision: 'bogus' })).toMatchObject({
      status: 404,
      body: { error: 'Request not found' },
    });
    const badDeny = await alice.api.post(denyPath(session.id), { decision: 'bogus' });
    expect(badDeny.status).toBe(400);
    expect(badDeny.body.error).toBe('Invalid body');
    expect(rpc.calls).toEqual([]);
  });

  it('RPC transport failures: 503 rpc_target_missing, 504 rpc_timeout; another namespace gets 403 and the CLI hears nothing', async () => {
    const { alice, bob } = world;
    const missing = await withPendingRequest(alice);
    expect(await alice.api.post(approvePath(missing.session.id), {})).toMatchObject({
      status: 503,
      body: { code: 'rpc_target_missing' },
    });
    expect(await alice.api.post(denyPath(missing.session.id), {})).toMatchObject({
      status: 503,
      body: { code: 'rpc_target_missing' },
    });

    const slow = await withPendingRequest(alice);
    await slow.rpc.serve('permission', () => NO_ANSWER);
    expect(await alice.api.post(approvePath(slow.session.id), {})).toMatchObject({
      status: 504,
      body: { code: 'rpc_timeout' },
    });
    const callsBefore = slow.rpc.calls.length;
    expect(await bob.api.post(approvePath(slow.session.id), {})).toMatchObject({
      status: 404,
      body: { error: 'Session not found' },
    });
    expect(await bob.api.post(denyPath(slow.session.id), {})).toMatchObject({
      status: 404,
      body: { error: 'Session not found' },
    });
    expect(slow.rpc.calls).toHaveLength(callsBefore);
  });
});

describe('POST /api/sessions/:id/permission-mode', () => {
  it('inactive: stored without RPC (permissionMode + metadata.preferredPermissionMode)', async () => {
    const { alice } = world;
    const session = await alice.session();
    const response = await alice.api.post(`/api/sessions/${session.id}/permission-mode`, { mode: 'plan' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ok: true });
    const stored = await getSession(alice, session.id);
    expect(stored.permissionMode).toBe('plan');
    expect(stored.metadata?.preferredPermissionMode).toBe('plan');
  });

  it('active: the CLI must apply it through set-session-config; refusals are 409', async () => {
    const { alice } = world;
    const { session, rpc } = await alice.liveSession();
    await rpc.serve('set-session-config', (params) => ({ applied: params }));
    expect((await alice.api.post(`/api/sessions/${session.id}/permission-mode`, { mode: 'acceptEdits' })).body).toEqual(
      { ok: true },
    );
    expect(rpc.calls).toEqual([{ name: 'set-session-config', params: { permissionMode: 'acceptEdits' } }]);
    const stored = await getSession(alice, session.id);
    expect(stored.permissionMode).toBe('acceptEdits');
    expect(stored.metadata?.preferredPermissionMode).toBe('acceptEdits');

    const refusals: [unknown, string][] = [
      [{ error: 'mode locked' }, 'mode locked'],
      [{ ok: true }, 'Missing applied session config'],
      [{ applied: { model: 'x' } }, 'Session did not apply permissionMode'],
    ];
    for (const [reply, error] of refusals) {
      rpc.handle('set-session-config', () => reply);
      const response = await alice.api.post(`/api/sessions/${session.id}/permission-mode`, { mode: 'default' });
      expect(response.status).toBe(409);
      expect(response.body).toEqual({ error });
    }
    expect((await getSession(alice, session.id)).permissionMode).toBe('acceptEdits');
    rpc.handle('set-session-config', () => NO_ANSWER);
    expect(await alice.api.post(`/api/sessions/${session.id}/permission-mode`, { mode: 'default' })).toMatchObject({
      status: 504,
      body: { code: 'rpc_timeout' },
    });
    const orphan = await alice.liveSession();
    expect(
      await alice.api.post(`/api/sessions/${orphan.session.id}/permission-mode`, { mode: 'default' }),
    ).toMatchObject({ status: 503, body: { code: 'rpc_target_missing' } });
  });

  it('flavor gates, invalid bodies, namespace isolation', async () => {
    const { alice, bob } = world;
    const pi = await alice.session({ metadata: sessionMetadata({ flavor: 'pi' }) });
    expect(await alice.api.post(`/api/sessions/${pi.id}/permission-mode`, { mode: 'default' })).toMatchObject({
      status: 400,
      body: { error: 'Permission mode not supported for session flavor' },
    });
    const codex = await alice.session({ metadata: sessionMetadata({ flavor: 'codex' }) });
    expect(await alice.api.post(`/api/sessions/${codex.id}/permission-mode`, { mode: 'plan' })).toMatchObject({
      status: 400,
      body: { error: 'Invalid permission mode for session flavor' },
    });
    expect((await alice.api.post(`/api/sessions/${codex.id}/permission-mode`, { mode: 'safe-yolo' })).status).toBe(200);
    const opencode = await alice.session({
      metadata: sessionMetadata({ flavor: 'opencode' }),
      agentState: { controlledByUser: true },
    });
    expect((await alice.api.post(`/api/sessions/${opencode.id}/permission-mode`, { mode: 'plan' })).status).toBe(409);
    for (const body of [{}, { mode: 'bogus' }, { mode: 1 }]) {
      const response = await alice.api.post(`/api/sessions/${codex.id}/permission-mode`, body);
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('Invalid body');
      expect(response.body.issues.length).toBeGreaterThan(0);
    }
    expect(await bob.api.post(`/api/sessions/${codex.id}/permission-mode`, { mode: 'yolo' })).toMatchObject({
      status: 404,
      body: { error: 'Session not found' },
    });
    expect((await getSession(alice, codex.id)).permissionMode).toBe('safe-yolo');
  });
});

describe('POST /api/sessions/:id/model', () => {
  it('active only; applied by the CLI, then stored in the model column (Pi models also in metadata)', async () => {
    const { alice } = world;
    const inactive = await alice.session();
    expect(await alice.api.post(`/api/sessions/${inactive.id}/model`, { model: 'sonnet' })).toMatchObject({
      status: 409,
      body: { code: 'session_inactive' },
    });

    const { session, rpc } = await alice.liveSession();
    await rpc.serve('set-session-config', (params) => ({ applied: params }));
    expect((await alice.api.post(`/api/sessions/${session.id}/model`, { model: '  sonnet  ' })).body).toEqual({
      ok: true,
    });
    expect(rpc.calls[0]).toEqual({ name: 'set-session-config', params: { model: 'sonnet' } });
    expect((await getSession(alice, session.id)).model).toBe('sonnet');

    expect(
      (
        await alice.api.post(`/api/sessions/${session.id}/model`, {
          model: { provider: 'anthropic', modelId: 'claude-x' },
        })
      ).body,
    ).toEqual({ ok: true });
    const piModel = await getSession(alice, session.id);
    expect(piModel.model).toBe('claude-x');
    expect(piModel.metadata?.piSelectedModel).toEqual({ provider: 'anthropic', modelId: 'claude-x' });

    expect((await alice.api.post(`/api/sessions/${session.id}/model`, { model: null })).body).toEqual({ ok: true });
    expect((await getSession(alice, session.id)).model).toBeNull();

    rpc.handle('set-session-config', () => ({ applied: {} }));
    expect(await alice.api.post(`/api/sessions/${session.id}/model`, { model: 'opus' })).toMatchObject({
      status: 409,
      body: { error: 'Session did not apply model' },
    });
    expect((await getSession(alice, session.id)).model).toBeNull();

    for (const body of [{}, { model: '   ' }, { model: 5 }, { model: { provider: 'x' } }]) {
      const response = await alice.api.post(`/api/sessions/${session.id}/model`, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error).toBe('Invalid body');
    }
  });

  it('flavor gates: dsh cannot change model (400); codex controlled by the terminal (409); 403 across namespaces', async () => {
    const { alice, bob } = world;
    const dsh = await alice.liveSession({ metadata: sessionMetadata({ flavor: 'dsh' }) });
    expect(await alice.api.post(`/api/sessions/${dsh.session.id}/model`, { model: 'x' })).toMatchObject({
      status: 400,
      body: { error: 'Model change not supported for session flavor' },
    });
    const codex = await alice.liveSession({
      metadata: sessionMetadata({ flavor: 'codex' }),
      agentState: { controlledByUser: true },
    });
    expect((await alice.api.post(`/api/sessions/${codex.session.id}/model`, { model: 'gpt' })).status).toBe(409);
    expect(await bob.api.post(`/api/sessions/${codex.session.id}/model`, { model: 'gpt' })).toMatchObject({
      status: 404,
      body: { error: 'Session not found' },
    });
    expect(codex.rpc.calls).toEqual([]);
  });
});
