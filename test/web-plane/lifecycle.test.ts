// Session lifecycle routes: abort, archive (incl. archive-from-hub when the CLI is gone), delete,
// rename, resume (spawn with the agent's resume id through a runner, then wait for active) and
// reopen.
import { describe, expect, it, vi } from 'vitest';
import { SessionSchema } from '../../src/protocol/models.js';
import { pingBarrier } from '../helpers/cli-client.js';
import { machineMetadata, sessionMetadata } from '../helpers/fixtures.js';
import { openSse } from '../helpers/sse-client.js';
import { NO_ANSWER, useWebWorld, type WebTenant } from '../helpers/web-world.js';

const world = useWebWorld();

async function getSession(tenant: WebTenant, sid: string) {
  const response = await tenant.api.get(`/api/sessions/${sid}`);
  expect(response.status).toBe(200);
  return SessionSchema.parse(response.body.session);
}

describe('POST /api/sessions/:id/abort', () => {
  it('calls <sid>:abort with upstream params and answers {ok:true}, also when the CLI returns {error}', async () => {
    const { alice } = world;
    const { session, rpc } = await alice.liveSession();
    await rpc.serve('abort', () => ({ error: 'nothing to abort' }));
    const response = await alice.api.post(`/api/sessions/${session.id}/abort`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ok: true });
    expect(rpc.calls).toEqual([{ name: 'abort', params: { reason: 'User aborted via Telegram Bot' } }]);
  });

  it('503 rpc_target_missing when no CLI handles it (never registered, or its socket is gone); 504 rpc_timeout', async () => {
    const { alice } = world;
    const { session } = await alice.liveSession();
    const missing = await alice.api.post(`/api/sessions/${session.id}/abort`);
    expect(missing.status).toBe(503);
    expect(missing.body).toEqual({
      error: `RPC handler not registered: ${session.id}:abort`,
      code: 'rpc_target_missing',
    });

    const gone = await alice.liveSession();
    await gone.rpc.serve('abort', () => ({ ok: true }));
    gone.socket.close();
    const afterDisconnect = await alice.api.post(`/api/sessions/${gone.session.id}/abort`);
    expect(afterDisconnect.status).toBe(503);
    expect(afterDisconnect.body.code).toBe('rpc_target_missing');

    const slow = await alice.liveSession();
    await slow.rpc.serve('abort', () => NO_ANSWER);
    const timedOut = await alice.api.post(`/api/sessions/${slow.session.id}/abort`);
    expect(timedOut.status).toBe(504);
    expect(timedOut.body).toEqual({ error: expect.stringContaining(`${slow.session.id}:abort`), code: 'rpc_timeout' });
  });

  it('409 session_inactive; 404; 403 for another namespace (and no RPC reaches the CLI)', async () => {
    const { alice, bob } = world;
    const inactive = await alice.session();
    expect(await alice.api.post(`/api/sessions/${inactive.id}/abort`)).toMatchObject({
      status: 409,
      body: { error: 'Session is inactive', code: 'session_inactive' },
    });
    expect((await alice.api.post('/api/sessions/none/abort')).status).toBe(404);
    const { session, rpc } = await alice.liveSession();
    await rpc.serve('abort', () => ({ ok: true }));
    expect(await bob.api.post(`/api/sessions/${session.id}/abort`)).toMatchObject({
      status: 404,
      body: { error: 'Session not found' },
    });
    expect(rpc.calls).toEqual([]);
  });
});

describe('POST /api/sessions/:id/archive', () => {
  it('active: RPC killSession {}, then the hub ends the session (session-updated inactive + session-ended)', async () => {
    const { alice, t } = world;
    const { session, rpc } = await alice.liveSession();
    await rpc.serve('killSession', () => ({ success: true, message: 'bye' }));
    const sse = await openSse(t.url, { token: alice.jwt, query: { sessionId: session.id } });
    try {
      const response = await alice.api.post(`/api/sessions/${session.id}/archive`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ ok: true });
      expect(rpc.calls).toEqual([{ name: 'killSession', params: {} }]);
      const inactive = await sse.next(
        (f) => f.event.type === 'session-updated' && (f.event.data as { active?: boolean }).active === false,
      );
      expect(inactive.event.data).toEqual({
        active: false,
        thinking: false,
        activeTurnStartedAt: null,
        backgroundTaskCount: 0,
      });
      const ended = await sse.next((f) => f.event.type === 'session-ended');
      expect(ended.event).toEqual({ type: 'session-ended', sessionId: session.id, namespace: alice.ns });
      expect((await getSession(alice, session.id)).active).toBe(false);
    } finally {
      sse.close();
    }
  });

  it('CLI unreachable: the hub archives the metadata itself (archivedBy hub); a second archive is alreadyArchived', async () => {
    const { alice, t } = world;
    const session = await alice.session(); // lifecycleState 'running', no CLI attached
    const sse = await openSse(t.url, { token: alice.jwt, query: { sessionId: session.id } });
    try {
      const response = await alice.api.post(`/api/sessions/${session.id}/archive`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ ok: true });
      const full = await sse.next((f) => f.event.type === 'session-updated');
      expect((full.event.data as { metadata: Record<string, unknown> }).metadata).toMatchObject({
        lifecycleState: 'archived',
        archivedBy: 'hub',
      });
      await sse.next((f) => f.event.type === 'session-ended');
    } finally {
      sse.close();
    }
    const stored = await getSession(alice, session.id);
    expect(stored.metadata).toMatchObject({
      lifecycleState: 'archived',
      lifecycleStateSince: t.clock.now,
      archivedBy: 'hub',
      archiveReason: 'Archived from hub (CLI unreachable)',
    });
    expect(stored.metadataVersion).toBe(session.metadataVersion + 1);
    expect((await alice.api.post(`/api/sessions/${session.id}/archive`)).body).toEqual({
      ok: true,
      alreadyArchived: true,
    });
  });

  it('409 for an inactive session that is not running; 504 when killSession times out; 403 across namespaces', async () => {
    const { alice, bob } = world;
    const completed = await alice.session({ metadata: sessionMetadata({ lifecycleState: 'completed' }) });
    const response = await alice.api.post(`/api/sessions/${completed.id}/archive`);
    expect(response.status).toBe(409);
    expect(response.body).toEqual({ error: 'Session is inactive' });

    const { session, rpc } = await alice.liveSession();
    await rpc.serve('killSession', () => NO_ANSWER);
    expect(await alice.api.post(`/api/sessions/${session.id}/archive`)).toMatchObject({
      status: 504,
      body: { code: 'rpc_timeout' },
    });
    expect((await getSession(alice, session.id)).active).toBe(true);
    expect(await bob.api.post(`/api/sessions/${session.id}/archive`)).toMatchObject({
      status: 404,
      body: { error: 'Session not found' },
    });
  });
});

describe('DELETE /api/sessions/:id', () => {
  it('409 while active; deletes an inactive session (SSE session-removed); 403 across namespaces leaves it alone', async () => {
    const { alice, bob, t } = world;
    const { session } = await alice.liveSession();
    const refused = await alice.api.del(`/api/sessions/${session.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ error: 'Cannot delete active session. Archive it first.' });

    const idle = await alice.session();
    expect(await bob.api.del(`/api/sessions/${idle.id}`)).toMatchObject({
      status: 404,
      body: { error: 'Session not found' },
    });
    expect((await alice.api.get(`/api/sessions/${idle.id}`)).status).toBe(200);

    const sse = await openSse(t.url, { token: alice.jwt, query: { all: 'true' } });
    try {
      const deleted = await alice.api.del(`/api/sessions/${idle.id}`);
      expect(deleted.status).toBe(200);
      expect(deleted.body).toEqual({ ok: true });
      const removed = await sse.next((f) => f.event.type === 'session-removed');
      expect(removed.event).toEqual({ type: 'session-removed', sessionId: idle.id, namespace: alice.ns });
    } finally {
      sse.close();
    }
    expect(await alice.api.get(`/api/sessions/${idle.id}`)).toMatchObject({
      status: 404,
      body: { error: 'Session not found' },
    });
    expect((await alice.api.del(`/api/sessions/${idle.id}`)).status).toBe(404);
  });
});

describe('PATCH /api/sessions/:id (rename)', () => {
  it('writes metadata.name (full session-updated), keeps updatedAt; 400 on bad names; 403 across namespaces', async () => {
    const { alice, bob } = world;
    const session = await alice.session();
    const response = await alice.api.patch(`/api/sessions/${session.id}`, { name: 'Renamed' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ok: true });
    const stored = await getSession(alice, session.id);
    expect(stored.metadata?.name).toBe('Renamed');
    expect(stored.metadata?.path).toBe('/work/project');
    expect(stored.metadataVersion).toBe(session.metadataVersion + 1);
    expect(stored.updatedAt).toBe(session.updatedAt);

    for (const body of [{}, { name: '' }, { name: 'x'.repeat(256) }, { name: 3 }]) {
      const bad = await alice.api.patch(`/api/sessions/${session.id}`, body);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toBe('Invalid body: name is required');
      expect(bad.body.issues.length).toBeGreaterThan(0);
    }
    expect(await bob.api.patch(`/api/sessions/${session.id}`, { name: 'stolen' })).toMatchObject({
      status: 404,
      body: { error: 'Session not found' },
    });
    expect((await getSession(alice, session.id)).metadata?.name).toBe('Renamed');
  });

  it('409 after five lost compare-and-set races', async () => {
    const { alice, t } = world;
    const session = await alice.session();
    const cas = vi
      .spyOn(t.engine.sessions, 'compareAndSet')
      .mockResolvedValue({ result: 'version-mismatch', version: 999, value: null });
    try {
      const response = await alice.api.patch(`/api/sessions/${session.id}`, { name: 'Contended' });
      expect(response.status).toBe(409);
      expect(response.body).toEqual({ error: 'Session was modified concurrently. Please try again.' });
      expect(cas).toHaveBeenCalledTimes(5);
    } finally {
      cas.mockRestore();
    }
  });
});

describe('POST /api/sessions/:id/resume', () => {
  it('spawns through the session machine with the agent resume id and waits until the session is active', async () => {
    const tenant = await world.tenant('resume');
    const runner = await tenant.runner();
    const session = await tenant.session({
      metadata: sessionMetadata({
        machineId: runner.machine.id,
        claudeSessionId: 'claude-abc',
        preferredPermissionMode: 'plan',
      }),
      model: 'opus',
    });
    // Like the real runner: start the agent, whose CLI attaches and beats, then answer.
    await runner.rpc.serve('spawn-happy-session', async (params) => {
      const { existingSessionId } = params as { existingSessionId: string };
      await tenant.attach(existingSessionId);
      return { type: 'success', sessionId: existingSessionId };
    });
    const response = await tenant.api.post(`/api/sessions/${session.id}/resume`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ type: 'success', sessionId: session.id });
    expect(runner.rpc.calls).toHaveLength(1);
    expect(runner.rpc.calls[0]!.params).toEqual({
      type: 'spawn-in-directory',
      directory: '/work/project',
      agent: 'claude',
      model: 'opus',
      resumeSessionId: 'claude-abc',
      permissionMode: 'plan',
      existingSessionId: session.id,
      sessionId: session.id,
      forkSession: false,
    });
    expect((await getSession(tenant, session.id)).active).toBe(true);
    // Already active: success without another spawn.
    expect((await tenant.api.post(`/api/sessions/${session.id}/resume`)).body).toEqual({
      type: 'success',
      sessionId: session.id,
    });
    expect(runner.rpc.calls).toHaveLength(1);
  });

  it('waits for the session to become active after the runner answered (same-host machine, body permissionMode)', async () => {
    const tenant = await world.tenant('resume-late');
    const runner = await tenant.runner();
    const session = await tenant.session({ metadata: sessionMetadata({ flavor: 'codex', codexSessionId: 'codex-1' }) });
    await runner.rpc.serve('spawn-happy-session', (params) => ({
      type: 'success',
      sessionId: (params as { existingSessionId: string }).existingSessionId,
    }));
    const pending = tenant.api.post(`/api/sessions/${session.id}/resume`, { permissionMode: 'yolo' });
    const call = await runner.rpc.nextCall('spawn-happy-session');
    expect(call.params).toMatchObject({
      agent: 'codex',
      resumeSessionId: 'codex-1',
      permissionMode: 'yolo',
      existingSessionId: session.id,
    });
    // The answer is on its way back; the hub is now waiting for session-alive.
    await tenant.attach(session.id);
    const response = await pending;
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ type: 'success', sessionId: session.id });
  });

  it('503 no_machine_online without a suitable runner; 409 resume_unavailable; 500 resume_failed on spawn errors', async () => {
    const tenant = await world.tenant('resume-errors');
    const session = await tenant.session({ metadata: sessionMetadata({ claudeSessionId: 'c-1' }) });
    expect(await tenant.api.post(`/api/sessions/${session.id}/resume`)).toMatchObject({
      status: 503,
      body: { error: 'No machine online', code: 'no_machine_online' },
    });
    // A runner on another host does not count.
    const elsewhere = await tenant.runner({ metadata: machineMetadata({ host: 'elsewhere' }) });
    expect(await tenant.api.post(`/api/sessions/${session.id}/resume`)).toMatchObject({
      status: 503,
      body: { code: 'no_machine_online' },
    });
    expect(elsewhere.rpc.calls).toEqual([]);

    const noToken = await tenant.session();
    expect(await tenant.api.post(`/api/sessions/${noToken.id}/resume`)).toMatchObject({
      status: 409,
      body: { error: 'Resume session ID unavailable', code: 'resume_unavailable' },
    });

    const runner = await tenant.runner();
    await runner.rpc.serve('spawn-happy-session', () => ({ type: 'error', errorMessage: 'agent binary missing' }));
    expect(await tenant.api.post(`/api/sessions/${session.id}/resume`)).toMatchObject({
      status: 500,
      body: { error: 'agent binary missing', code: 'resume_failed' },
    });
  });

  it('400 for a bad body or a mode the flavor does not have; 403 across namespaces; an empty body is {}', async () => {
    const { alice, bob } = world;
    const session = await alice.session({ metadata: sessionMetadata({ claudeSessionId: 'c-2' }) });
    const badMode = await alice.api.post(`/api/sessions/${session.id}/resume`, { permissionMode: 'yolo' });
    expect(badMode.status).toBe(400);
    expect(badMode.body).toEqual({ error: 'Invalid permission mode for session flavor' });
    const badBody = await alice.api.post(`/api/sessions/${session.id}/resume`, { permissionMode: 7 });
    expect(badBody.status).toBe(400);
    expect(badBody.body.error).toBe('Invalid body');
    expect(badBody.body.issues.length).toBeGreaterThan(0);
    expect(await bob.api.post(`/api/sessions/${session.id}/resume`)).toMatchObject({
      status: 404,
      body: { error: 'Session not found' },
    });
    const { session: live } = await alice.liveSession();
    const noBody = await alice.api.request('POST', `/api/sessions/${live.id}/resume`, { rawBody: 'not json' });
    expect(noBody.body).toEqual({ type: 'success', sessionId: live.id });
  });
});

describe('POST /api/sessions/:id/reopen', () => {
  it('active → resumed:false; archived → un-archived and resumed; a failed resume restores the archive fields', async () => {
    const tenant = await world.tenant('reopen');
    const { session: live, socket } = await tenant.liveSession();
    await pingBarrier(socket);
    expect((await tenant.api.post(`/api/sessions/${live.id}/reopen`, {})).body).toEqual({
      ok: true,
      sessionId: live.id,
      resumed: false,
    });

    const archived = await tenant.session({ metadata: sessionMetadata({ claudeSessionId: 'c-3' }) });
    expect((await tenant.api.post(`/api/sessions/${archived.id}/archive`)).status).toBe(200);
    const archivedMeta = (await getSession(tenant, archived.id)).metadata;

    // No runner: resume fails and the archive is put back.
    const failed = await tenant.api.post(`/api/sessions/${archived.id}/reopen`, {});
    expect(failed).toMatchObject({ status: 503, body: { code: 'no_machine_online' } });
    const restored = (await getSession(tenant, archived.id)).metadata;
    expect(restored).toMatchObject({
      lifecycleState: 'archived',
      archivedBy: 'hub',
      archiveReason: archivedMeta?.archiveReason,
      lifecycleStateSince: archivedMeta?.lifecycleStateSince,
    });

    const runner = await tenant.runner();
    await runner.rpc.serve('spawn-happy-session', async (params) => {
      const { existingSessionId } = params as { existingSessionId: string };
      await tenant.attach(existingSessionId);
      return { type: 'success', sessionId: existingSessionId };
    });
    world.t.clock.advance(5);
    const reopened = await tenant.api.post(`/api/sessions/${archived.id}/reopen`, {});
    expect(reopened.status).toBe(200);
    expect(reopened.body).toEqual({ ok: true, sessionId: archived.id, resumed: true });
    const stored = await getSession(tenant, archived.id);
    expect(stored.active).toBe(true);
    expect(stored.metadata).not.toHaveProperty('lifecycleState');
    expect(stored.metadata).not.toHaveProperty('archivedBy');
    expect(stored.metadata).not.toHaveProperty('archiveReason');
    expect(stored.metadata?.lifecycleStateSince).toBe(world.t.clock.now);
  });

  it('404 unknown; 403 for another namespace (nothing un-archived)', async () => {
    const { alice, bob } = world;
    const session = await alice.session({
      metadata: sessionMetadata({ lifecycleState: 'archived', archivedBy: 'cli' }),
    });
    expect(await alice.api.post('/api/sessions/none/reopen', {})).toMatchObject({
      status: 404,
      body: { error: 'Session not found' },
    });
    expect(await bob.api.post(`/api/sessions/${session.id}/reopen`, {})).toMatchObject({
      status: 404,
      body: { error: 'Session not found' },
    });
    expect((await getSession(alice, session.id)).metadata).toMatchObject({
      lifecycleState: 'archived',
      archivedBy: 'cli',
    });
  });

  it('422 for an archived Cursor session with messages but no cursorSessionId', async () => {
    const { alice } = world;
    const { session, socket } = await alice.liveSession({ metadata: sessionMetadata({ flavor: 'cursor' }) });
    socket.emit('message', { sid: session.id, message: { role: 'agent', content: { type: 'output', data: 'x' } } });
    socket.emit('session-end', { sid: session.id, time: world.t.clock.now });
    await pingBarrier(socket);
    socket.close();
    expect((await alice.api.post(`/api/sessions/${session.id}/archive`)).status).toBe(200);
    const response = await alice.api.post(`/api/sessions/${session.id}/reopen`, {});
    expect(response.status).toBe(422);
    expect(response.body).toEqual({ error: expect.any(String), missing: ['cursorSessionId'] });
  });
});
