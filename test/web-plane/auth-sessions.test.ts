// POST /api/auth, the JWT middleware, namespace isolation, GET /api/sessions (summaries, order,
// limit) and GET /api/sessions/:id.
import { describe, expect, it } from 'vitest';
import { jwtVerify, decodeJwt } from 'jose';
import { SessionSchema } from '../../src/protocol/models.js';
import { NamespaceAdmin } from '../../src/services/auth.js';
import { httpJson, pingBarrier } from '../helpers/cli-client.js';
import { sessionMetadata } from '../helpers/fixtures.js';
import { loginWeb, webApi } from '../helpers/web-api.js';
import { useWebWorld } from '../helpers/web-world.js';

const world = useWebWorld();

describe('POST /api/auth', () => {
  it('exchanges `<token>:<ns>` for a 4 h HS256 JWT {uid, ns} and the Web User', async () => {
    const { t, alice } = world;
    const response = await httpJson(`${t.url}/api/auth`, { method: 'POST', body: { accessToken: alice.token } });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      token: expect.any(String),
      user: { id: t.hub.services.auth.userId, firstName: 'Web User' },
    });
    const claims = decodeJwt(response.body.token);
    expect(claims.ns).toBe(alice.ns);
    expect(claims.uid).toBe(t.hub.services.auth.userId);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(4 * 60 * 60);
    // The bare base token opens the default namespace.
    const plain = await httpJson(`${t.url}/api/auth`, { method: 'POST', body: { accessToken: t.token } });
    expect(decodeJwt(plain.body.token).ns).toBe('default');
    await expect(
      jwtVerify(response.body.token, new TextEncoder().encode('wrong-secret-wrong-secret')),
    ).rejects.toThrow();
  });

  it('400 Invalid body for malformed JSON and for bodies matching neither variant', async () => {
    const { t } = world;
    for (const init of [
      { rawBody: '{not json', headers: { 'content-type': 'application/json' } },
      { body: {} },
      { body: { accessToken: 42 } },
      { body: [] },
    ]) {
      const response = await httpJson(`${t.url}/api/auth`, { method: 'POST', ...init });
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('Invalid body');
      expect(Array.isArray(response.body.issues)).toBe(true);
    }
  });

  it('401 Invalid access token for a wrong base, an unparseable token, or a token for another tenant', async () => {
    const { t } = world;
    for (const accessToken of ['nope', `nope:${world.alice.ns}`, '', ':x', `${t.token}:`, `${t.token}:bad ns`]) {
      const response = await httpJson(`${t.url}/api/auth`, { method: 'POST', body: { accessToken } });
      expect(response.status, accessToken).toBe(401);
      expect(response.body).toEqual({ error: 'Invalid access token' });
    }
  });

  it('503 JSON for Telegram initData (not configured here)', async () => {
    const response = await httpJson(`${world.t.url}/api/auth`, { method: 'POST', body: { initData: 'x' } });
    expect(response.status).toBe(503);
    expect(response.body.error).toEqual(expect.any(String));
  });
});

describe('JWT middleware', () => {
  it('401 without a token, with a bad token, and after the namespace token is rotated', async () => {
    const { t } = world;
    expect((await httpJson(`${t.url}/api/sessions`)).body).toEqual({ error: 'Missing authorization token' });
    const bad = await webApi(t.url, 'not.a.jwt').get('/api/sessions');
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual({ error: 'Invalid token' });

    const admin = new NamespaceAdmin(t.engine, t.clock.fn);
    const tenant = `rotating-${Date.now()}`;
    const first = await admin.create(tenant);
    const jwt = await loginWeb(t.url, `${first.token}:${tenant}`);
    const api = webApi(t.url, jwt);
    expect((await api.get('/api/sessions')).status).toBe(200);
    const second = await admin.rotate(tenant);
    expect(second).not.toBeNull();
    const after = await api.get('/api/sessions');
    expect(after.status).toBe(401);
    expect(after.body).toEqual({ error: 'Invalid token' });
    // The old namespace token no longer logs in; the new one does.
    expect(
      (await httpJson(`${t.url}/api/auth`, { method: 'POST', body: { accessToken: `${first.token}:${tenant}` } }))
        .status,
    ).toBe(401);
    expect((await webApi(t.url, await loginWeb(t.url, `${second!.token}:${tenant}`)).get('/api/sessions')).status).toBe(
      200,
    );
  });

  it('unknown /api paths answer JSON 404 and wrong methods JSON 405 (after auth)', async () => {
    const response = await world.alice.api.get('/api/nothing-here');
    expect(response.status).toBe(404);
    expect(response.body).toEqual(expect.objectContaining({ error: expect.any(String) }));
    const wrongMethod = await world.alice.api.request('PUT', '/api/machines');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('content-type')).toContain('application/json');
    expect(wrongMethod.body).toEqual({ error: 'Method not allowed', code: 'method_not_allowed' });
  });
});

describe('GET /api/sessions', () => {
  it('lists only the caller namespace as SessionSummary objects', async () => {
    const tenant = await world.tenant('list');
    const other = await world.tenant('other');
    const mine = await tenant.session({
      metadata: sessionMetadata({
        name: 'Mine',
        machineId: 'm1',
        claudeSessionId: 'claude-1',
        summary: { text: 'sum', updatedAt: 1 },
        hapiMcpUrl: 'http://mcp',
      }),
      agentState: {
        requests: {
          r1: { tool: 'Bash', arguments: {}, createdAt: 5 },
          r2: { tool: 'AskUserQuestion', arguments: {}, createdAt: 3 },
        },
      },
      model: 'opus',
    });
    await other.session();
    const response = await tenant.api.get('/api/sessions');
    expect(response.status).toBe(200);
    expect(response.body.sessions).toHaveLength(1);
    expect(response.body.sessions[0]).toEqual({
      id: mine.id,
      active: false,
      thinking: false,
      activeAt: mine.activeAt,
      updatedAt: mine.updatedAt,
      pinned: false,
      globalPinned: false,
      metadata: {
        name: 'Mine',
        path: '/work/project',
        machineId: 'm1',
        summary: { text: 'sum' },
        flavor: 'claude',
        agentSessionId: 'claude-1',
        lifecycleState: 'running',
        hapiMcpUrl: 'http://mcp',
      },
      metadataVersion: mine.metadataVersion,
      agentStateVersion: mine.agentStateVersion,
      todosUpdatedAt: 0,
      todoProgress: null,
      pendingRequestsCount: 2,
      pendingRequestKinds: ['input', 'permission'],
      pendingRequests: [
        { id: 'r2', kind: 'input', tool: 'AskUserQuestion', since: 3 },
        { id: 'r1', kind: 'permission', tool: 'Bash', since: 5 },
      ],
      backgroundTaskCount: 0,
      futureScheduledMessageCount: 0,
      nextScheduledAt: null,
      model: 'opus',
      modelReasoningEffort: null,
      effort: null,
    });
  });

  it('sorts active first, then by pending requests, then by updatedAt; order=updatedAt and limit clamp', async () => {
    const tenant = await world.tenant('sort');
    const { t } = world;
    const oldInactive = await tenant.session();
    t.clock.advance(1000);
    const newInactive = await tenant.session();
    t.clock.advance(1000);
    const activeNoRequests = await tenant.liveSession();
    t.clock.advance(1000);
    const activeWithRequests = await tenant.session({
      agentState: { requests: { a: { tool: 'Bash', arguments: {} } } },
    });
    await tenant.attach(activeWithRequests.id);

    const ids = (body: { sessions: { id: string }[] }) => body.sessions.map((s) => s.id);
    expect(ids((await tenant.api.get('/api/sessions')).body)).toEqual([
      activeWithRequests.id,
      activeNoRequests.session.id,
      newInactive.id,
      oldInactive.id,
    ]);
    const byUpdated = ids((await tenant.api.get('/api/sessions', { order: 'updatedAt' })).body);
    expect(byUpdated.indexOf(newInactive.id)).toBeLessThan(byUpdated.indexOf(oldInactive.id));
    expect(ids((await tenant.api.get('/api/sessions', { limit: 2 })).body)).toHaveLength(2);
    expect(ids((await tenant.api.get('/api/sessions', { limit: 0 })).body)).toHaveLength(1); // clamped up to 1
    expect(ids((await tenant.api.get('/api/sessions', { limit: 'abc' })).body)).toHaveLength(4); // ignored
    expect(ids((await tenant.api.get('/api/sessions', { limit: 2.9 })).body)).toHaveLength(2); // floored
  });
});

describe('GET /api/sessions/:id', () => {
  it('returns the full Session; 404 unknown; 403 from another namespace (no data)', async () => {
    const { alice, bob } = world;
    const { session, socket } = await alice.liveSession();
    await pingBarrier(socket);
    const response = await alice.api.get(`/api/sessions/${session.id}`);
    expect(response.status).toBe(200);
    const parsed = SessionSchema.parse(response.body.session);
    expect(parsed).toMatchObject({ id: session.id, namespace: alice.ns, active: true });

    expect(await alice.api.get('/api/sessions/no-such-session')).toMatchObject({
      status: 404,
      body: { error: 'Session not found' },
    });
    const foreign = await bob.api.get(`/api/sessions/${session.id}`);
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual({ error: 'Session not found' });
  });
});
