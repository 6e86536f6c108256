// Machine routes: list (online only), spawn through a runner-like socket, list-directory and
// paths/exists RPC passthroughs.
import { describe, expect, it } from 'vitest';
import { MachineSchema } from '../../src/protocol/models.js';
import { NO_ANSWER, useWebWorld } from '../helpers/web-world.js';

const world = useWebWorld();

describe('GET /api/machines', () => {
  it('lists only online machines of the caller namespace', async () => {
    const tenant = await world.tenant('machines');
    const other = await world.tenant('machines-other');
    const online = await tenant.runner();
    await tenant.rest.createMachine({
      id: `offline-${Date.now()}`,
      metadata: { host: 'h', platform: 'linux', happyCliVersion: '0.30.0' },
    });
    await other.runner();
    const response = await tenant.api.get('/api/machines');
    expect(response.status).toBe(200);
    expect(response.body.machines).toHaveLength(1);
    const machine = MachineSchema.parse(response.body.machines[0]);
    expect(machine).toMatchObject({ id: online.machine.id, namespace: tenant.ns, active: true });
  });
});

describe('POST /api/machines/:id/spawn', () => {
  it('calls <machineId>:spawn-happy-session with upstream params and maps the runner answers (always 200)', async () => {
    const { alice } = world;
    const { machine, rpc } = await alice.runner();
    const replies: [unknown, unknown][] = [
      [
        { type: 'success', sessionId: 'new-session' },
        { type: 'success', sessionId: 'new-session' },
      ],
      [
        { type: 'error', errorMessage: 'cannot start agent' },
        { type: 'error', message: 'cannot start agent' },
      ],
      [
        { type: 'requestToApproveDirectoryCreation', directory: '/new/dir' },
        { type: 'error', message: 'Directory creation requires approval: /new/dir' },
      ],
      [{ error: 'Method not found' }, { type: 'error', message: 'Method not found' }],
      [{ weird: true }, { type: 'error', message: 'Unexpected spawn result: {"weird":true}' }],
    ];
    let reply: unknown;
    await rpc.serve('spawn-happy-session', () => reply);
    for (const [answer, expected] of replies) {
      reply = answer;
      const response = await alice.api.post(`/api/machines/${machine.id}/spawn`, {
        directory: '/work/x',
        agent: 'codex',
        model: 'gpt',
        yolo: true,
        sessionType: 'worktree',
        worktreeName: 'wt',
      });
      expect(response.status).toBe(200);
      expect(response.body).toEqual(expected);
    }
    expect(rpc.calls[0]).toEqual({
      name: 'spawn-happy-session',
      params: {
        type: 'spawn-in-directory',
        directory: '/work/x',
        agent: 'codex',
        model: 'gpt',
        yolo: true,
        sessionType: 'worktree',
        worktreeName: 'wt',
        forkSession: false,
      },
    });
    await alice.api.post(`/api/machines/${machine.id}/spawn`, { directory: '/d' });
    expect(rpc.calls.at(-1)?.params).toEqual({
      type: 'spawn-in-directory',
      directory: '/d',
      agent: 'claude',
      forkSession: false,
    });
  });

  it('transport failures become {type:"error"} with HTTP 200 (missing handler, timeout)', async () => {
    const { alice } = world;
    const bare = await alice.runner();
    const missing = await alice.api.post(`/api/machines/${bare.machine.id}/spawn`, { directory: '/d' });
    expect(missing.status).toBe(200);
    expect(missing.body).toEqual({
      type: 'error',
      message: `RPC handler not registered: ${bare.machine.id}:spawn-happy-session`,
    });
    await bare.rpc.serve('spawn-happy-session', () => NO_ANSWER);
    const slow = await alice.api.post(`/api/machines/${bare.machine.id}/spawn`, { directory: '/d' });
    expect(slow.status).toBe(200);
    expect(slow.body).toEqual({ type: 'error', message: expect.stringContaining('timed out') });
  });

  it('400 invalid body / remote-only agents; 404 unknown machine; 403 another namespace (runner never called)', async () => {
    const { alice, bob } = world;
    const { machine, rpc } = await alice.runner();
    await rpc.serve('spawn-happy-session', () => ({ type: 'success', sessionId: 's' }));
    for (const body of [
      {},
      { directory: '' },
      { directory: '/d', agent: 'nobody' },
      { directory: '/d', sessionType: 'other' },
      { directory: '/d', yolo: 'yes' },
    ]) {
      const response = await alice.api.post(`/api/machines/${machine.id}/spawn`, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error).toBe('Invalid body');
      expect(response.body.issues.length).toBeGreaterThan(0);
    }
    expect(
      await alice.api.post(`/api/machines/${machine.id}/spawn`, { directory: '/d', agent: 'agy', startingMode: 'pty' }),
    ).toMatchObject({ status: 400, body: { error: 'AGY only supports remote mode' } });
    expect(
      await alice.api.post(`/api/machines/${machine.id}/spawn`, { directory: '/d', agent: 'dsh', startingMode: 'pty' }),
    ).toMatchObject({ status: 400, body: { error: 'DSH only supports remote mode' } });
    expect(await alice.api.post('/api/machines/unknown-machine/spawn', { directory: '/d' })).toMatchObject({
      status: 404,
      body: { error: 'Machine not found' },
    });
    expect(await bob.api.post(`/api/machines/${machine.id}/spawn`, { directory: '/d' })).toMatchObject({
      status: 404,
      body: { error: 'Machine not found' },
    });
    expect(rpc.calls).toEqual([]);
  });
});

describe('POST /api/machines/:id/list-directory', () => {
  it('passes the runner answer through; non-objects become {success:false}; transport → 503/504; 400/403', async () => {
    const { alice, bob } = world;
    const { machine, rpc } = await alice.runner();
    const listing = {
      success: true,
      entries: [
        { name: 'src', type: 'directory', isGitRepo: false },
        { name: 'a.txt', type: 'file', size: 3 },
      ],
    };
    let reply: unknown = listing;
    const path = `/api/machines/${machine.id}/list-directory`;
    expect(await alice.api.post(path, { path: '/home' })).toMatchObject({
      status: 503,
      body: { code: 'rpc_target_missing' },
    });
    await rpc.serve('list-directory', () => reply);
    const response = await alice.api.post(path, { path: '/home', includeHidden: true });
    expect(response.status).toBe(200);
    expect(response.body).toEqual(listing);
    expect(rpc.calls).toEqual([{ name: 'list-directory', params: { path: '/home', includeHidden: true } }]);
    reply = { success: false, error: 'outside workspace roots' };
    expect((await alice.api.post(path, { path: '/etc' })).body).toEqual(reply);
    reply = 'nonsense';
    expect((await alice.api.post(path, { path: '/etc' })).body).toEqual({
      success: false,
      error: 'Unexpected list-directory result',
    });
    reply = NO_ANSWER;
    expect(await alice.api.post(path, { path: '/etc' })).toMatchObject({ status: 504, body: { code: 'rpc_timeout' } });

    for (const body of [{}, { path: '' }, { path: '/x', includeHidden: 'no' }]) {
      const bad = await alice.api.post(path, body);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toBe('Invalid body');
      expect(bad.body.issues.length).toBeGreaterThan(0);
    }
    // The guards' order: an unknown machine is 404 whatever the body.
    for (const body of [{ path: '/home' }, {}, undefined]) {
      expect(await bob.api.post(path, body)).toMatchObject({ status: 404, body: { error: 'Machine not found' } });
    }
    expect(rpc.calls).toHaveLength(4);
  });
});

describe('POST /api/machines/:id/paths/exists', () => {
  it('trims and de-duplicates, coerces answers to booleans, skips the RPC for nothing; errors', async () => {
    const { alice, bob } = world;
    const { machine, rpc } = await alice.runner();
    const path = `/api/machines/${machine.id}/paths/exists`;
    let reply: unknown = { exists: { '/a': true, '/b': 'yes' } };
    await rpc.serve('path-exists', () => reply);
    const response = await alice.api.post(path, { paths: [' /a ', '/a', '/b', '   '] });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ exists: { '/a': true, '/b': false } });
    expect(rpc.calls).toEqual([{ name: 'path-exists', params: { paths: ['/a', '/b'] } }]);

    expect((await alice.api.post(path, { paths: ['  '] })).body).toEqual({ exists: {} });
    expect(rpc.calls).toHaveLength(1);

    reply = { nope: true };
    expect(await alice.api.post(path, { paths: ['/a'] })).toMatchObject({
      status: 502,
      body: { error: 'Unexpected path-exists result', code: 'rpc_bad_answer' },
    });
    reply = { error: 'permission denied' };
    expect(await alice.api.post(path, { paths: ['/a'] })).toMatchObject({
      status: 500,
      body: { error: 'permission denied' },
    });
    reply = NO_ANSWER;
    expect(await alice.api.post(path, { paths: ['/a'] })).toMatchObject({ status: 504, body: { code: 'rpc_timeout' } });

    for (const body of [
      {},
      { paths: [''] },
      { paths: '/a' },
      { paths: Array.from({ length: 1001 }, (_, i) => `/p${i}`) },
    ]) {
      const bad = await alice.api.post(path, body);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toBe('Invalid body');
    }
    // The guards' order: an unknown machine is 404 whatever the body, an empty path list included.
    for (const body of [{ paths: ['/a'] }, { paths: ['  '] }, {}, { paths: '/a' }, undefined]) {
      expect(await bob.api.post(path, body)).toMatchObject({ status: 404, body: { error: 'Machine not found' } });
    }
    expect(await alice.api.post('/api/machines/nope/paths/exists', { paths: ['/a'] })).toMatchObject({
      status: 404,
      body: { error: 'Machine not found' },
    });
    expect(rpc.calls).toHaveLength(4);
  });
});
