// /cli/* REST: sessions, messages backfill, machines, auth, headers; /health; unknown routes.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CliMessageSchema, MachineSchema, SessionSchema } from '../../src/protocol/models.js';
import { cliRest, httpJson, pingBarrier } from '../helpers/cli-client.js';
import {
  createMachine,
  createSession,
  fetchMachine,
  fetchSession,
  machineMetadata,
  sessionMetadata,
} from '../helpers/fixtures.js';
import { startTestHub } from '../helpers/hub.js';
import { useCliWorld } from './world.js';

const world = useCliWorld();

describe('POST /cli/sessions', () => {
  it('creates a session that passes SessionSchema', async () => {
    const { alice, t } = world;
    const tag = randomUUID();
    const response = await alice.rest.createSession({
      tag,
      metadata: sessionMetadata(),
      agentState: { controlledByUser: false },
      model: 'sonnet',
      effort: 'high',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-hapi-protocol-version')).toBe('1');
    expect(response.body.sessionSummaryContract).toBe(false);
    const session = SessionSchema.parse(response.body.session);
    expect(session).toMatchObject({
      namespace: alice.ns,
      active: false,
      thinking: false,
      metadata: sessionMetadata(),
      metadataVersion: 1,
      agentState: { controlledByUser: false },
      agentStateVersion: 1,
      model: 'sonnet',
      effort: 'high',
      modelReasoningEffort: null,
      createdAt: t.clock.now,
    });
  });

  it('the same tag returns the same session, unchanged', async () => {
    const { alice } = world;
    const tag = randomUUID();
    const first = await createSession(alice.rest, { tag });
    const again = await createSession(alice.rest, { tag, metadata: sessionMetadata({ path: '/elsewhere' }) });
    expect(again.id).toBe(first.id);
    expect(again.metadata).toEqual(sessionMetadata());
  });

  it('a requested id is echoed; the same id+tag returns it again', async () => {
    const { alice } = world;
    const id = randomUUID();
    const tag = randomUUID();
    expect((await createSession(alice.rest, { id, tag })).id).toBe(id);
    expect((await createSession(alice.rest, { id, tag })).id).toBe(id);
  });

  it('409 when the tag is bound to a different id, or the id to a different session', async () => {
    const { alice, bob } = world;
    const tag = randomUUID();
    const existing = await createSession(alice.rest, { tag });
    const tagConflict = await alice.rest.createSession({ id: randomUUID(), tag, metadata: sessionMetadata() });
    expect(tagConflict.status).toBe(409);
    expect(tagConflict.body).toEqual({ error: 'Session tag is already bound to a different id' });
    const idConflict = await alice.rest.createSession({
      id: existing.id,
      tag: randomUUID(),
      metadata: sessionMetadata(),
    });
    expect(idConflict.status).toBe(409);
    expect(idConflict.body).toEqual({ error: 'Session id is already bound to a different session' });
    // An id taken in another namespace is a fresh id here: bob gets his own session, alice's is untouched.
    const foreign = await bob.rest.createSession({ id: existing.id, tag, metadata: sessionMetadata({ path: '/bob' }) });
    expect(foreign.status).toBe(200);
    expect(foreign.body.session).toMatchObject({
      id: existing.id,
      namespace: bob.ns,
      metadataVersion: 1,
      metadata: { path: '/bob' },
    });
    expect(foreign.headers.get('x-hapi-protocol-version')).toBe('1');
    expect(await fetchSession(alice.rest, existing.id)).toEqual(existing);
  });

  it('with `machine`: upserts the machine in the same namespace', async () => {
    const { alice } = world;
    const machineId = `m-${randomUUID()}`;
    await createSession(alice.rest, { machine: { id: machineId, metadata: machineMetadata() } });
    expect(await fetchMachine(alice.rest, machineId)).toMatchObject({
      id: machineId,
      namespace: alice.ns,
      metadata: machineMetadata(),
      runnerState: null,
    });
    await createSession(alice.rest, { machine: { id: machineId, metadata: machineMetadata({ host: 'renamed' }) } });
    expect(await fetchMachine(alice.rest, machineId)).toMatchObject({
      metadataVersion: 2,
      metadata: machineMetadata({ host: 'renamed' }),
    });
  });

  it("a machine id of another namespace is a fresh id: bob's own machine and session are created, alice's untouched", async () => {
    const { alice, bob } = world;
    const machine = await createMachine(alice.rest);
    const tag = randomUUID();
    const response = await bob.rest.createSession({
      tag,
      metadata: sessionMetadata(),
      machine: { id: machine.id, metadata: machineMetadata({ host: 'bob-host' }) },
    });
    expect(response.status).toBe(200);
    expect((await fetchMachine(bob.rest, machine.id)).metadata).toEqual(machineMetadata({ host: 'bob-host' }));
    expect((await fetchMachine(alice.rest, machine.id)).metadata).toEqual(machineMetadata());
    expect((await world.t.engine.sessions.list(bob.ns)).filter((row) => row.tag === tag)).toHaveLength(1);
  });

  it.each([
    ['missing tag', { metadata: {} }],
    ['empty tag', { tag: '', metadata: {} }],
    ['non-uuid id', { id: 'not-a-uuid', tag: 't', metadata: {} }],
    ['array body', [1, 2]],
    ['machine without id', { tag: 't', metadata: {}, machine: { metadata: {} } }],
  ])('400 Invalid body: %s', async (_label, body) => {
    const response = await world.alice.rest.createSession(body);
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('Invalid body');
    expect(Array.isArray(response.body.issues)).toBe(true);
  });

  it('400 Invalid body for malformed JSON and for an empty body', async () => {
    const { t, alice } = world;
    for (const rawBody of ['{"tag":', '']) {
      const response = await httpJson(`${t.url}/cli/sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
        rawBody,
      });
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('Invalid body');
    }
  });

  it('metadata that is not valid session metadata is stored but reads as null', async () => {
    const session = await createSession(world.alice.rest, { metadata: { nopath: true } });
    expect(session.metadata).toBeNull();
    expect(session.agentState).toEqual({});
  });
});

describe('GET /cli/sessions/:id', () => {
  it('returns the session; 404 Session not found, also for an id of another namespace', async () => {
    const { alice, bob } = world;
    const session = await createSession(alice.rest);
    const ok = await alice.rest.getSession(session.id);
    expect(ok.status).toBe(200);
    expect(SessionSchema.parse(ok.body.session)).toEqual(session);
    expect(ok.body.sessionSummaryContract).toBe(false);
    expect(await alice.rest.getSession(randomUUID())).toMatchObject({
      status: 404,
      body: { error: 'Session not found' },
    });
    expect(await bob.rest.getSession(session.id)).toMatchObject({ status: 404, body: { error: 'Session not found' } });
  });
});

describe('GET /cli/sessions/:id/messages', () => {
  it('ascending by seq, afterSeq and limit respected', async () => {
    const { alice } = world;
    const session = await createSession(alice.rest);
    const cli = await alice.connect();
    for (let i = 1; i <= 7; i += 1)
      cli.emit('message', { sid: session.id, message: { role: 'agent', content: { type: 'output', data: { n: i } } } });
    await pingBarrier(cli);

    const all = await alice.rest.getMessages(session.id, { afterSeq: 0 });
    expect(all.status).toBe(200);
    expect(all.headers.get('x-hapi-protocol-version')).toBe('1');
    const messages = (all.body.messages as unknown[]).map((m) => CliMessageSchema.parse(m));
    expect(messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(messages.map((m) => (m.content as { content: { data: { n: number } } }).content.data.n)).toEqual([
      1, 2, 3, 4, 5, 6, 7,
    ]);
    expect(Object.keys(all.body.messages[0]).sort()).toEqual(['content', 'createdAt', 'id', 'localId', 'seq']);

    const page = await alice.rest.getMessages(session.id, { afterSeq: 2, limit: 3 });
    expect(page.body.messages.map((m: { seq: number }) => m.seq)).toEqual([3, 4, 5]);
    const tail = await alice.rest.getMessages(session.id, { afterSeq: 5, limit: 200 });
    expect(tail.body.messages.map((m: { seq: number }) => m.seq)).toEqual([6, 7]);
    expect((await alice.rest.getMessages(session.id, { afterSeq: 7 })).body).toEqual({ messages: [] });
  });

  it.each([
    ['missing afterSeq', {}],
    ['negative afterSeq', { afterSeq: -1 }],
    ['non-numeric afterSeq', { afterSeq: 'abc' }],
    ['limit 0', { afterSeq: 0, limit: 0 }],
    ['limit 201', { afterSeq: 0, limit: 201 }],
  ])('400 Invalid query: %s', async (_label, query) => {
    const { alice } = world;
    const session = await createSession(alice.rest);
    const response = await alice.rest.getMessages(session.id, query);
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('Invalid query');
  });

  it('404 / 403 like the session itself', async () => {
    const { alice, bob } = world;
    const session = await createSession(alice.rest);
    expect(await alice.rest.getMessages(randomUUID())).toMatchObject({
      status: 404,
      body: { error: 'Session not found' },
    });
    expect(await bob.rest.getMessages(session.id)).toMatchObject({ status: 404, body: { error: 'Session not found' } });
  });
});

describe('POST /cli/machines and GET /cli/machines/:id', () => {
  it('creates a machine that passes MachineSchema', async () => {
    const { alice, t } = world;
    const id = `m-${randomUUID()}`;
    const response = await alice.rest.createMachine({
      id,
      metadata: machineMetadata(),
      runnerState: { status: 'offline', pid: 1 },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-hapi-protocol-version')).toBe('1');
    expect(MachineSchema.parse(response.body.machine)).toMatchObject({
      id,
      namespace: alice.ns,
      active: false,
      activeAt: t.clock.now,
      metadata: machineMetadata(),
      metadataVersion: 1,
      runnerState: { status: 'offline', pid: 1 },
      runnerStateVersion: 1,
    });
  });

  it('re-registration merges shallowly (version+1); an identical one changes nothing', async () => {
    const { alice } = world;
    const machine = await createMachine(alice.rest, {
      metadata: machineMetadata({ workspaceRoots: ['/a'], homeDir: '/home/a' }),
    });
    const merged = await createMachine(alice.rest, {
      id: machine.id,
      metadata: { host: 'new-host', platform: 'linux', happyCliVersion: '0.31.0' },
    });
    expect(merged).toMatchObject({
      metadataVersion: 2,
      metadata: {
        host: 'new-host',
        platform: 'linux',
        happyCliVersion: '0.31.0',
        workspaceRoots: ['/a'],
        homeDir: '/home/a',
      },
    });
    const same = await createMachine(alice.rest, { id: machine.id, metadata: { host: 'new-host' } });
    expect(same.metadataVersion).toBe(2);
  });

  it('a runner registration drops runner-owned keys (capabilities, …) missing from the new metadata and takes runnerState.capabilities', async () => {
    const { alice } = world;
    const runnerMeta = machineMetadata({
      capabilities: ['stop-runner'],
      supervisedRestart: true,
      startedCliMtimeMs: 1,
      installedCliMtimeMs: 2,
    });
    const machine = await createMachine(alice.rest, {
      metadata: runnerMeta,
      runnerState: { status: 'offline', capabilities: ['a'] },
    });
    expect(machine.metadata).toEqual(runnerMeta);

    // A plain CLI registration (runnerState null) keeps them…
    const cli = await createMachine(alice.rest, { id: machine.id, metadata: machineMetadata(), runnerState: null });
    expect(cli.metadata).toEqual(runnerMeta);
    // …a runner registration without them drops them.
    const runner = await createMachine(alice.rest, {
      id: machine.id,
      metadata: machineMetadata({ startedCliMtimeMs: 5 }),
      runnerState: { status: 'offline', pid: 9, capabilities: ['b'] },
    });
    expect(runner.metadata).toEqual(machineMetadata({ startedCliMtimeMs: 5 }));
    expect(runner.metadataVersion).toBe(2);
    // Live runner fields belong to machine-update-state: only capabilities are merged.
    expect(runner.runnerState).toEqual({ status: 'offline', capabilities: ['b'] });
    expect(runner.runnerStateVersion).toBe(2);
  });

  it("another namespace's machine id is a fresh id for bob (POST creates bob's own, GET 404 before); 404 Machine not found", async () => {
    const { alice, bob } = world;
    const machine = await createMachine(alice.rest);
    expect(await bob.rest.getMachine(machine.id)).toMatchObject({ status: 404, body: { error: 'Machine not found' } });
    const own = await bob.rest.createMachine({ id: machine.id, metadata: machineMetadata({ host: 'bob-host' }) });
    expect(own.status).toBe(200);
    expect(own.body.machine).toMatchObject({
      id: machine.id,
      namespace: bob.ns,
      metadataVersion: 1,
      metadata: machineMetadata({ host: 'bob-host' }),
    });
    expect(await alice.rest.getMachine('__healthcheck__')).toMatchObject({
      status: 404,
      body: { error: 'Machine not found' },
    });
    expect((await fetchMachine(alice.rest, machine.id)).metadata).toEqual(machineMetadata());
  });

  it.each([
    ['missing id', { metadata: {} }],
    ['empty id', { id: '', metadata: {} }],
    ['numeric id', { id: 5, metadata: {} }],
  ])('400 Invalid body: %s', async (_label, body) => {
    const response = await world.alice.rest.createMachine(body);
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('Invalid body');
  });
});

describe('/cli auth and headers', () => {
  it('401s with the upstream messages, with the protocol header', async () => {
    const { t } = world;
    const cases: [Record<string, string>, string][] = [
      [{}, 'Missing Authorization header'],
      [{ authorization: 'Basic dXNlcjpwYXNz' }, 'Invalid Authorization header'],
      [{ authorization: 'Bearer' }, 'Invalid Authorization header'],
      [{ authorization: 'Bearer wrong-token' }, 'Invalid token'],
      [{ authorization: `Bearer ${t.token}:` }, 'Invalid token'],
    ];
    for (const [headers, error] of cases) {
      for (const [method, path] of [
        ['GET', '/cli/sessions/x'],
        ['POST', '/cli/sessions'],
        ['POST', '/cli/machines'],
        ['GET', '/cli/machines/x'],
      ] as const) {
        const response = await httpJson(`${t.url}${path}`, {
          method,
          headers,
          ...(method === 'POST' ? { body: {} } : {}),
        });
        expect(response.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(response.body).toEqual({ error });
        expect(response.headers.get('x-hapi-protocol-version')).toBe('1');
      }
    }
  });

  it('the bearer scheme is case-insensitive and the token may carry the namespace', async () => {
    const { t, alice } = world;
    const session = await createSession(alice.rest);
    const response = await httpJson(`${t.url}/cli/sessions/${session.id}`, {
      headers: { authorization: `bearer ${alice.token}` },
    });
    expect(response.status).toBe(200);
  });

  it('unknown /cli routes: 401 without auth, JSON 404 with it, always with the protocol header', async () => {
    const { t } = world;
    const anonymous = await httpJson(`${t.url}/cli/nope`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual({ error: 'Missing Authorization header' });
    expect(anonymous.headers.get('x-hapi-protocol-version')).toBe('1');
    for (const [method, path] of [
      ['GET', '/cli/nope'],
      ['POST', '/cli/nope/deeper'],
      ['GET', '/cli/sessions/a/b/c'],
    ]) {
      const response = await httpJson(`${t.url}${path}`, { method, headers: { authorization: `Bearer ${t.token}` } });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/json');
      expect(response.body).toEqual({ error: 'Not found', code: 'not_found' });
      expect(response.headers.get('x-hapi-protocol-version')).toBe('1');
    }
  });

  it('a wrong method on a known /cli path → JSON 405 with Allow', async () => {
    const { t } = world;
    for (const [method, path, allow] of [
      ['DELETE', '/cli/sessions', 'POST'],
      ['PUT', '/cli/machines/x', 'HEAD, GET'],
      ['GET', '/cli/machines', 'POST'],
    ]) {
      const response = await httpJson(`${t.url}${path}`, {
        method: method!,
        headers: { authorization: `Bearer ${t.token}` },
      });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.body).toEqual({ error: 'Method not allowed', code: 'method_not_allowed' });
      expect(response.headers.get('allow')?.split(', ').sort()).toEqual(allow!.split(', ').sort());
      expect(response.headers.get('x-hapi-protocol-version')).toBe('1');
    }
  });
});

describe('/health and unknown routes', () => {
  it('GET /health → {status:ok, protocolVersion:1, capabilities}', async () => {
    const response = await httpJson(`${world.t.url}/health`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok', protocolVersion: 1, capabilities: expect.any(Object) });
  });

  it('an unknown route → JSON 404', async () => {
    for (const path of ['/nope', '/cli-but-not', '/socket.io-not']) {
      const response = await httpJson(`${world.t.url}${path}`);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type'), path).toContain('application/json');
      expect(response.body, path).toMatchObject({ error: expect.any(String) });
    }
  });

  it('a cliRest client for another base token is refused everywhere', async () => {
    const rest = cliRest(world.t.url, 'definitely-not-the-token');
    expect(await rest.getMachine('x')).toMatchObject({ status: 401, body: { error: 'Invalid token' } });
  });
});

describe('body size limit', () => {
  it('a body over the limit → 413 JSON with the protocol header; nothing created', async () => {
    const t = await startTestHub({ maxBodyBytes: 2_048 });
    try {
      const rest = cliRest(t.url, t.token);
      const tag = randomUUID();
      const response = await rest.createSession({ tag, metadata: { path: '/p', host: 'h', blob: 'x'.repeat(4_096) } });
      expect(response.status).toBe(413);
      expect(response.body).toEqual({ error: 'Request body exceeds 2048 bytes', code: 'body_too_large' });
      expect(response.headers.get('x-hapi-protocol-version')).toBe('1');
      expect(await t.engine.sessions.list('default')).toEqual([]);
      expect((await rest.createSession({ tag, metadata: { path: '/p', host: 'h' } })).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
