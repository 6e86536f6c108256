// The routes the 0.30.7 web app calls beyond the core plane (issue #14), on an in-process hub:
// upstream's shapes for features this hub does not provide, hub settings, scratchlist, export and
// the peripheral session routes that need no CLI. (With a real CLI: test/browser.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRest } from '../helpers/cli-client.js';
import { createMachine, createSession, sessionMetadata } from '../helpers/fixtures.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { openSse } from '../helpers/sse-client.js';
import { loginWeb, webApi, type WebApi } from '../helpers/web-api.js';

let hub: TestHub;
let owner: WebApi;
let alice: WebApi;
let sid: string;

beforeAll(async () => {
  hub = await startTestHub();
  owner = webApi(hub.url, await loginWeb(hub.url, hub.token));
  alice = webApi(hub.url, await loginWeb(hub.url, hub.tokenFor('alice')));
  sid = (await createSession(cliRest(hub.url, hub.tokenFor('alice')), { metadata: sessionMetadata({ name: 'notes' }) }))
    .id;
});

afterAll(async () => {
  await hub?.close();
});

describe("features this hub does not provide answer upstream's unconfigured shapes", () => {
  it('voice: no backend, voices or providers; tokens refused as not configured', async () => {
    expect((await alice.get('/api/voice/backend')).body).toEqual({ backend: null, backends: [] });
    expect((await alice.get('/api/voice/voices')).body).toEqual({ voices: [] });
    expect((await alice.get('/api/voice/transcription/providers')).body).toEqual({ providers: [] });
    const token = await alice.post('/api/voice/token', {});
    expect(token.status).toBe(400);
    expect(token.body).toEqual({ error: 'ElevenLabs API key not configured', allowed: false });
    const creds = await owner.get('/api/voice/transcription/credentials');
    expect(creds.status).toBe(200);
    expect(creds.body.openai).toEqual({ configured: false, source: 'none', hint: null, editable: false });
    expect((await alice.get('/api/voice/transcription/credentials')).status).toBe(403);
  });

  it('usage, storage and codex status: empty for the owner, 403 for other namespaces', async () => {
    const usage = await owner.get('/api/usage/summary', { range: '30d', timeZone: 'UTC' });
    expect(usage.status).toBe(200);
    expect(usage.body.totals).toEqual({
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
      totalTokens: 0,
      uncachedTokens: 0,
      requests: 0,
      sessions: 0,
    });
    expect(usage.body.range.to - usage.body.range.from).toBe(30 * 24 * 3600 * 1000);
    expect((await owner.get('/api/usage/summary', { range: 'all' })).body.range.from).toBeNull();
    expect((await alice.get('/api/usage/summary')).body).toEqual({
      error: 'Usage summary is only available to the hub owner',
    });
    expect((await owner.get('/api/storage/sqlite')).body).toEqual({
      path: '(none: memory engine)',
      databaseBytes: 0,
      walBytes: 0,
      shmBytes: 0,
      totalBytes: 0,
    });
    expect((await alice.get('/api/storage/sqlite')).status).toBe(403);
    expect((await owner.get('/api/codex/status')).body).toEqual({
      success: true,
      codexDesktopRunning: false,
      codexClientAvailable: false,
    });
    expect((await alice.get('/api/codex/status')).status).toBe(403);
  });

  it("push, codex and pi import: 503 with upstream's bodies", async () => {
    const vapid = await alice.get('/api/push/vapid-public-key');
    expect(vapid.status).toBe(503);
    expect(vapid.body.code).toBe('push_unavailable');
    for (const path of ['/api/codex/sessions', '/api/pi/sessions']) {
      const res = await alice.get(path);
      expect(res.status, path).toBe(503);
      expect(res.body, path).toMatchObject({ success: false, sessions: [] });
    }
  });
});

describe('hub settings', () => {
  it('are readable by every namespace, writable by the owner only, and shared', async () => {
    expect((await alice.get('/api/hub-settings')).body).toEqual({
      sessionSummaryContract: false,
      sessionSummaryInChat: false,
    });
    expect((await alice.request('PUT', '/api/hub-settings', { body: { sessionSummaryContract: true } })).status).toBe(
      403,
    );
    expect((await owner.request('PUT', '/api/hub-settings', { body: {} })).status).toBe(400);
    expect((await owner.request('PUT', '/api/hub-settings', { body: { sessionSummaryContract: 'yes' } })).status).toBe(
      400,
    );
    const put = await owner.request('PUT', '/api/hub-settings', { body: { sessionSummaryInChat: true } });
    expect(put.body).toEqual({ sessionSummaryContract: false, sessionSummaryInChat: true });
    const read = await alice.get('/api/hub-settings');
    expect(read.body).toEqual({ sessionSummaryContract: false, sessionSummaryInChat: true });
    expect(read.headers.get('cache-control')).toBe('no-store');
  });

  it('sessionSummaryContract reaches the CLI in its session bootstrap (POST/GET /cli/sessions)', async () => {
    const cli = cliRest(hub.url, hub.tokenFor('alice'));
    expect((await cli.getSession(sid)).body.sessionSummaryContract).toBe(false);
    await owner.request('PUT', '/api/hub-settings', { body: { sessionSummaryContract: true } });
    expect((await cli.getSession(sid)).body.sessionSummaryContract).toBe(true);
    const created = await cli.createSession({ tag: 'summary-contract', metadata: sessionMetadata() });
    expect(created.body.sessionSummaryContract).toBe(true);
    await owner.request('PUT', '/api/hub-settings', { body: { sessionSummaryContract: false } });
    expect((await cli.getSession(sid)).body.sessionSummaryContract).toBe(false);
  });
});

describe('scratchlist', () => {
  it('creates, updates, lists and deletes entries of one session', async () => {
    const base = `/api/sessions/${sid}/scratchlist`;
    expect((await alice.get(base)).body).toEqual({ entries: [] });
    expect((await alice.post(base, {})).status).toBe(400);
    expect((await alice.post(base, { text: 'x'.repeat(10_001) })).status).toBe(400);
    const stream = await openSse(hub.url, { token: alice.jwt, query: { sessionId: sid } });
    const created = await alice.post(base, { text: 'remember this' });
    expect(created.status).toBe(201);
    // Other viewers of the session learn that the list changed (upstream's patch).
    const changed = await stream.next((f) => f.event.type === 'session-updated');
    expect(changed.event).toMatchObject({
      type: 'session-updated',
      sessionId: sid,
      data: { scratchlistUpdatedAt: expect.any(Number) },
    });
    stream.close();
    const entry = created.body.entry;
    expect(entry).toMatchObject({ text: 'remember this', attachments: [] });
    const updated = await alice.request('PUT', `${base}/${entry.entryId}`, { body: { text: 'changed' } });
    expect(updated.body.entry).toMatchObject({ entryId: entry.entryId, text: 'changed' });
    expect((await alice.request('PUT', `${base}/nope`, { body: { text: 'x' } })).body).toEqual({
      error: 'Scratchlist entry not found',
    });
    expect((await alice.get(base)).body.entries.map((e: { text: string }) => e.text)).toEqual(['changed']);
    // Another namespace does not have this session at all.
    expect((await owner.get(base)).status).toBe(404);
    expect((await alice.del(`${base}/${entry.entryId}`)).body).toEqual({ ok: true });
    expect((await alice.get(base)).body).toEqual({ entries: [] });
  });

  it('keeps attachments: upload, reference, download, refuse deleting while referenced', async () => {
    const base = `/api/sessions/${sid}/scratchlist`;
    const upload = await alice.post(`${base}/upload`, {
      filename: 'a.txt',
      content: Buffer.from('hello').toString('base64'),
      mimeType: 'text/plain',
    });
    expect(upload.body).toMatchObject({
      success: true,
      attachment: { filename: 'a.txt', mimeType: 'text/plain', size: 5 },
    });
    const attachment = upload.body.attachment;
    expect((await alice.post(base, { attachments: [{ ...attachment, id: 'forged' }] })).body.code).toBe(
      'scratchlist_attachment_invalid',
    );
    const created = await alice.post(base, { attachments: [attachment] });
    expect(created.status).toBe(201);
    const bytes = await fetch(`${hub.url}${base}/attachments/${attachment.id}`, {
      headers: { authorization: `Bearer ${alice.jwt}` },
    });
    expect(bytes.status).toBe(200);
    expect(bytes.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await bytes.text()).toBe('hello');
    expect((await alice.del(`${base}/attachments/${attachment.id}`)).body.code).toBe('scratchlist_attachment_in_use');
    await alice.del(`${base}/${created.body.entry.entryId}`);
    expect((await alice.del(`${base}/attachments/${attachment.id}`)).body).toEqual({ ok: true });
    expect((await alice.get(`${base}/attachments/${attachment.id}`)).status).toBe(404);
  });

  it("goes with its session: deleting the session removes the engine's documents of it", async () => {
    const other = (await createSession(cliRest(hub.url, hub.tokenFor('alice')), { metadata: sessionMetadata() })).id;
    const base = `/api/sessions/${other}/scratchlist`;
    expect((await alice.post(base, { text: 'kept until the session goes' })).status).toBe(201);
    const upload = await alice.post(`${base}/upload`, {
      filename: 'b.txt',
      content: Buffer.from('bytes').toString('base64'),
      mimeType: 'text/plain',
    });
    expect(upload.body.success).toBe(true);
    expect(await hub.engine.documents.get('alice', other, 'scratchlist')).not.toBeNull();
    expect((await alice.del(`/api/sessions/${other}`)).body).toEqual({ ok: true });
    expect(await hub.engine.documents.get('alice', other, 'scratchlist')).toBeNull();
    expect(
      await hub.engine.documents.get('alice', other, `scratchlist-attachment:${upload.body.attachment.id}`),
    ).toBeNull();
    expect(await hub.engine.documents.deleteOwner('alice', other)).toBe(0);
  });
});

describe('peripheral session routes', () => {
  it('pin and summary write the session and show in it', async () => {
    expect((await alice.request('PUT', `/api/sessions/${sid}/pin`, { body: { mode: 'sideways' } })).status).toBe(400);
    expect((await alice.request('PUT', `/api/sessions/${sid}/pin`, { body: { mode: 'global' } })).body).toEqual({
      ok: true,
    });
    expect((await alice.patch(`/api/sessions/${sid}/summary`, { text: '  short summary  ' })).body).toEqual({
      ok: true,
    });
    const session = (await alice.get(`/api/sessions/${sid}`)).body.session;
    expect(session).toMatchObject({
      pinned: false,
      globalPinned: true,
      metadata: { summary: { text: 'short summary' } },
    });
    expect((await alice.get('/api/sessions')).body.sessions[0].id).toBe(sid);
  });

  it('export carries the session, its messages and its scratchlist', async () => {
    await alice.post(`/api/sessions/${sid}/scratchlist`, { text: 'kept' });
    const res = await alice.get(`/api/sessions/${sid}/export`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      schemaVersion: 2,
      session: { id: sid, namespace: 'alice', hasConversationContent: false },
      messages: [],
      scratchlist: [{ text: 'kept' }],
    });
  });

  it("routes that need the CLI answer 409 while the session is inactive; steer/retry answer upstream's statuses", async () => {
    for (const [method, path, body] of [
      ['POST', 'switch', {}],
      ['POST', 'effort', { effort: 'high' }],
      ['POST', 'fork', {}],
      ['POST', 'rewind', { messageLocalId: 'x' }],
      ['GET', 'codex-models', undefined],
    ] as const) {
      const res = await alice.request(method, `/api/sessions/${sid}/${path}`, body === undefined ? {} : { body });
      expect(res.status, path).toBe(409);
      expect(res.body, path).toEqual({ error: 'Session is inactive', code: 'session_inactive' });
    }
    expect((await alice.post(`/api/sessions/${sid}/messages/x/retry`, {})).body).toEqual({ status: 'not-found' });
  });
});

describe('machine settings', () => {
  it('renames a machine (trimmed; empty removes the name) and refuses restarting an offline runner', async () => {
    const machine = await createMachine(cliRest(hub.url, hub.tokenFor('alice')));
    const path = `/api/machines/${machine.id}`;
    expect((await alice.patch(path, {})).body).toEqual({ error: 'Invalid body: displayName is required' });
    expect((await alice.patch(path, { displayName: 'x'.repeat(65) })).status).toBe(400);
    expect((await alice.patch(path, { displayName: '  build box  ' })).body).toEqual({ ok: true });
    const named = await cliRest(hub.url, hub.tokenFor('alice')).request('GET', `/cli/machines/${machine.id}`);
    expect(named.body.machine.metadata.displayName).toBe('build box');
    expect((await alice.patch(path, { displayName: '' })).body).toEqual({ ok: true });
    const cleared = await cliRest(hub.url, hub.tokenFor('alice')).request('GET', `/cli/machines/${machine.id}`);
    expect(cleared.body.machine.metadata.displayName).toBeUndefined();
    expect((await owner.patch(path, { displayName: 'not yours' })).status).toBe(404);
    const restart = await alice.post(`${path}/restart-runner`, {});
    expect(restart.status).toBe(503);
    expect(restart.body).toEqual({ error: 'Machine is offline', code: 'machine_offline' });
  });
});
