// RPC-wrapped session file/git routes, generated images, slash commands, skills and uploads.
import { describe, expect, it } from 'vitest';
import { sessionMetadata } from '../helpers/fixtures.js';
import { NO_ANSWER, fakeRpc, useWebWorld } from '../helpers/web-world.js';

const world = useWebWorld();

describe('git/file passthroughs', () => {
  it('forward upstream params and pass the CLI answer through (also a CLI {error})', async () => {
    const { alice } = world;
    const { session, rpc } = await alice.liveSession();
    const sid = session.id;
    const answer = (name: string) => ({ success: true, stdout: `${name} out`, exitCode: 0 });
    for (const name of ['git-status', 'git-diff-numstat', 'git-diff-file', 'readFile', 'listDirectory'])
      rpc.handle(name, () => answer(name));
    await rpc.register('git-status', 'git-diff-numstat', 'git-diff-file', 'readFile', 'listDirectory');

    const cases: [string, Record<string, string> | undefined, string, unknown][] = [
      [`/api/sessions/${sid}/git-status`, undefined, 'git-status', { cwd: '/work/project' }],
      [
        `/api/sessions/${sid}/git-diff-numstat`,
        { staged: 'true' },
        'git-diff-numstat',
        { cwd: '/work/project', staged: true },
      ],
      [`/api/sessions/${sid}/git-diff-numstat`, { staged: 'maybe' }, 'git-diff-numstat', { cwd: '/work/project' }],
      [
        `/api/sessions/${sid}/git-diff-file`,
        { path: 'src/a.ts', staged: 'false' },
        'git-diff-file',
        { cwd: '/work/project', filePath: 'src/a.ts', staged: false },
      ],
      [`/api/sessions/${sid}/file`, { path: 'README.md' }, 'readFile', { path: 'README.md' }],
      [`/api/sessions/${sid}/directory`, undefined, 'listDirectory', { path: '' }],
      [`/api/sessions/${sid}/directory`, { path: 'src' }, 'listDirectory', { path: 'src' }],
    ];
    for (const [path, query, name, params] of cases) {
      const response = await alice.api.get(path, query);
      expect(response.status, path).toBe(200);
      expect(response.body).toEqual(answer(name));
      expect(rpc.calls.at(-1)).toEqual({ name, params });
    }
    rpc.handle('readFile', () => ({ error: 'ENOENT: no such file' }));
    expect((await alice.api.get(`/api/sessions/${sid}/file`, { path: 'missing' })).body).toEqual({
      error: 'ENOENT: no such file',
    });
  });

  it('transport failures are 200 {success:false, error}; the session need not be active', async () => {
    const { alice } = world;
    const session = await alice.session(); // inactive, no CLI
    const missing = await alice.api.get(`/api/sessions/${session.id}/git-status`);
    expect(missing.status).toBe(200);
    expect(missing.body).toEqual({ success: false, error: `RPC handler not registered: ${session.id}:git-status` });

    const socket = await alice.connect({ sessionId: session.id });
    const rpc = fakeRpc(socket, session.id);
    await rpc.serve('readFile', () => NO_ANSWER);
    const slow = await alice.api.get(`/api/sessions/${session.id}/file`, { path: 'a' });
    expect(slow.status).toBe(200);
    expect(slow.body).toEqual({ success: false, error: expect.stringContaining('timed out') });
  });

  it('400 Invalid file path / Invalid query; a session without a path answers {success:false} first; 404/403', async () => {
    const { alice, bob } = world;
    const { session, rpc } = await alice.liveSession();
    await rpc.serve('git-diff-file', () => ({ success: true }));
    for (const path of ['git-diff-file', 'file']) {
      const response = await alice.api.get(`/api/sessions/${session.id}/${path}`);
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('Invalid file path');
      expect(response.body.issues.length).toBeGreaterThan(0);
    }
    for (const limit of ['0', '501', 'x']) {
      const response = await alice.api.get(`/api/sessions/${session.id}/files`, { limit });
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('Invalid query');
    }
    expect(rpc.calls).toEqual([]);

    const pathless = await alice.session({ metadata: { host: 'h', flavor: 'claude' } });
    for (const path of ['git-status', 'git-diff-numstat', 'git-diff-file', 'file', 'directory', 'files']) {
      expect((await alice.api.get(`/api/sessions/${pathless.id}/${path}`)).body, path).toEqual({
        success: false,
        error: 'Session path not available',
      });
    }
    expect(await alice.api.get('/api/sessions/nope/git-status')).toMatchObject({
      status: 404,
      body: { error: 'Session not found' },
    });
    for (const path of [
      'git-status',
      'git-diff-numstat',
      'file?path=a',
      'directory',
      'files',
      'slash-commands',
      'skills',
      'generated-images/x',
    ]) {
      expect(await bob.api.get(`/api/sessions/${session.id}/${path}`), path).toMatchObject({
        status: 404,
        body: { error: 'Session not found' },
      });
    }
  });
});

describe('GET /api/sessions/:id/files', () => {
  it('ripgrep --files with an iglob prefilter, filtered and capped, joined with statFiles metadata', async () => {
    const { alice } = world;
    const { session, rpc } = await alice.liveSession();
    rpc.handle('ripgrep', () => ({
      success: true,
      stdout: 'src/foo.ts\nlib/bar.ts\n  foo.md  \nx/Foo2.ts\n',
      exitCode: 0,
    }));
    rpc.handle('statFiles', () => ({ success: true, entries: [{ path: 'src/foo.ts', size: 10, modified: 5 }] }));
    await rpc.register('ripgrep', 'statFiles');
    const response = await alice.api.get(`/api/sessions/${session.id}/files`, { query: ' foo ', limit: 2 });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      success: true,
      files: [
        { fileName: 'foo.ts', filePath: 'src', fullPath: 'src/foo.ts', fileType: 'file', size: 10, modified: 5 },
        { fileName: 'foo.md', filePath: '', fullPath: 'foo.md', fileType: 'file' },
      ],
    });
    expect(rpc.calls).toEqual([
      {
        name: 'ripgrep',
        params: { args: ['--files', '--iglob', '*foo*'], cwd: '/work/project', fileSearch: { query: 'foo', limit: 2 } },
      },
      { name: 'statFiles', params: { paths: ['src/foo.ts', 'foo.md'] } },
    ]);
    // Wildcards go to the filter, not to --iglob.
    const wild = await alice.api.get(`/api/sessions/${session.id}/files`, { query: '*.md' });
    expect(wild.body.files.map((f: { fullPath: string }) => f.fullPath)).toEqual(['foo.md']);
    expect(rpc.calls[2]).toEqual({
      name: 'ripgrep',
      params: { args: ['--files'], cwd: '/work/project', fileSearch: { query: '*.md', limit: 200 } },
    });

    rpc.handle('ripgrep', () => ({ success: false, error: 'rg not found' }));
    expect((await alice.api.get(`/api/sessions/${session.id}/files`)).body).toEqual({
      success: false,
      error: 'rg not found',
    });
  });
});

describe('GET /api/sessions/:id/generated-images/:imageId', () => {
  it('serves the bytes with immutable caching; If-None-Match → 304 without the CLI; missing → 404 JSON', async () => {
    const { alice, t } = world;
    const { session, rpc } = await alice.liveSession();
    await rpc.serve('readGeneratedImage', (params) =>
      (params as { id: string }).id === 'img-1'
        ? {
            success: true,
            content: Buffer.from('PNGDATA').toString('base64'),
            mimeType: 'image/png',
            fileName: 'a b.png',
          }
        : { success: false, error: 'no such image' },
    );
    const url = `${t.url}/api/sessions/${session.id}/generated-images/img-1`;
    const response = await fetch(url, { headers: { authorization: `Bearer ${alice.jwt}` } });
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).toString()).toBe('PNGDATA');
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('etag')).toBe('"img-1"');
    expect(response.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    expect(response.headers.get('content-disposition')).toBe('inline; filename="a%20b.png"');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(rpc.calls).toEqual([{ name: 'readGeneratedImage', params: { id: 'img-1' } }]);

    const cached = await fetch(url, {
      headers: { authorization: `Bearer ${alice.jwt}`, 'if-none-match': 'W/"other", W/"img-1"' },
    });
    expect(cached.status).toBe(304);
    expect(rpc.calls).toHaveLength(1);

    const missing = await alice.api.get(`/api/sessions/${session.id}/generated-images/img-2`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ success: false, error: 'no such image' });
  });
});

describe('slash commands and skills', () => {
  it('merges the CLI list with metadata.slashCommands (CLI wins) and falls back to metadata when the CLI cannot answer', async () => {
    const { alice } = world;
    const { session, rpc, socket } = await alice.liveSession({
      metadata: sessionMetadata({ slashCommands: ['compact', 'review'] }),
    });
    const path = `/api/sessions/${session.id}/slash-commands`;
    expect((await alice.api.get(path)).body).toEqual({
      success: true,
      commands: [
        { name: 'compact', source: 'builtin' },
        { name: 'review', source: 'builtin' },
      ],
    });
    await rpc.serve('listSlashCommands', () => ({
      success: true,
      commands: [
        { name: 'review', source: 'user' },
        { name: 'deploy', source: 'project' },
      ],
    }));
    expect((await alice.api.get(path)).body).toEqual({
      success: true,
      commands: [
        { name: 'review', source: 'user' },
        { name: 'deploy', source: 'project' },
        { name: 'compact', source: 'builtin' },
      ],
    });
    expect(rpc.calls.at(-1)).toEqual({ name: 'listSlashCommands', params: { agent: 'claude' } });
    socket.close();

    const bare = await alice.liveSession({ metadata: sessionMetadata({ flavor: 'codex' }) });
    expect((await alice.api.get(`/api/sessions/${bare.session.id}/slash-commands`)).body).toEqual({
      success: false,
      error: `RPC handler not registered: ${bare.session.id}:listSlashCommands`,
    });
    await bare.rpc.serve('listSkills', () => ({ success: true, skills: [{ name: 'pdf' }] }));
    expect((await alice.api.get(`/api/sessions/${bare.session.id}/skills`)).body).toEqual({
      success: true,
      skills: [{ name: 'pdf' }],
    });
    expect(bare.rpc.calls.at(-1)).toEqual({ name: 'listSkills', params: { flavor: 'codex' } });
    bare.socket.close();
    expect((await alice.api.get(`/api/sessions/${bare.session.id}/skills`)).body).toEqual({
      success: false,
      error: expect.stringContaining('listSkills'),
    });
  });
});

describe('uploads', () => {
  it('upload → <sid>:uploadFile {sessionId, filename, content, mimeType}; delete → deleteUpload; answers passed through', async () => {
    const { alice } = world;
    const { session, rpc } = await alice.liveSession();
    await rpc.serve('uploadFile', () => ({ success: true, path: '/tmp/uploads/a.txt' }));
    await rpc.serve('deleteUpload', () => ({ success: true }));
    const file = { filename: 'a.txt', content: Buffer.from('hello').toString('base64'), mimeType: 'text/plain' };
    const uploaded = await alice.api.post(`/api/sessions/${session.id}/upload`, file);
    expect(uploaded.status).toBe(200);
    expect(uploaded.body).toEqual({ success: true, path: '/tmp/uploads/a.txt' });
    expect(rpc.calls[0]).toEqual({ name: 'uploadFile', params: { sessionId: session.id, ...file } });
    const deleted = await alice.api.post(`/api/sessions/${session.id}/upload/delete`, { path: '/tmp/uploads/a.txt' });
    expect(deleted.body).toEqual({ success: true });
    expect(rpc.calls[1]).toEqual({
      name: 'deleteUpload',
      params: { sessionId: session.id, path: '/tmp/uploads/a.txt' },
    });
  });

  it('413 {success:false} over 50 MiB decoded', { timeout: 90_000 }, async () => {
    const { alice } = world;
    const { session, rpc } = await alice.liveSession();
    await rpc.serve('uploadFile', () => ({ success: true }));
    // 69 905 068 base64 chars decode to 50 MiB + 1 byte. Built by hand: JSON.stringify of 70 MB
    // alone takes seconds on a small CI machine.
    const rawBody = `{"filename":"big.bin","mimeType":"application/octet-stream","content":"${'A'.repeat(69_905_068)}"}`;
    const tooLarge = await alice.api.request('POST', `/api/sessions/${session.id}/upload`, {
      rawBody,
      headers: { 'content-type': 'application/json' },
    });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toEqual({ success: false, error: 'File too large (max 50MB)' });
    expect(rpc.calls).toEqual([]);
  });

  it('409 inactive; 400 invalid; 503/504 {success:false, code} on transport failures; 403', async () => {
    const { alice, bob } = world;
    const inactive = await alice.session();
    expect(await alice.api.post(`/api/sessions/${inactive.id}/upload`, {})).toMatchObject({
      status: 409,
      body: { code: 'session_inactive' },
    });
    expect(await alice.api.post(`/api/sessions/${inactive.id}/upload/delete`, {})).toMatchObject({
      status: 409,
      body: { code: 'session_inactive' },
    });

    const { session, rpc } = await alice.liveSession();
    for (const body of [
      {},
      { filename: '', content: 'aGk=', mimeType: 't' },
      { filename: 'f', content: '', mimeType: 't' },
      { filename: 'x'.repeat(256), content: 'aGk=', mimeType: 't' },
    ]) {
      const response = await alice.api.post(`/api/sessions/${session.id}/upload`, body);
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('Invalid body');
      expect(response.body.issues.length).toBeGreaterThan(0);
    }
    expect((await alice.api.post(`/api/sessions/${session.id}/upload/delete`, { path: '' })).status).toBe(400);

    const missing = await alice.api.post(`/api/sessions/${session.id}/upload`, {
      filename: 'f',
      content: 'aGk=',
      mimeType: 't',
    });
    expect(missing.status).toBe(503);
    expect(missing.body).toEqual({
      success: false,
      error: `RPC handler not registered: ${session.id}:uploadFile`,
      code: 'rpc_target_missing',
    });
    await rpc.serve('deleteUpload', () => NO_ANSWER);
    expect(await alice.api.post(`/api/sessions/${session.id}/upload/delete`, { path: '/x' })).toMatchObject({
      status: 504,
      body: { success: false, code: 'rpc_timeout' },
    });
    expect(
      await bob.api.post(`/api/sessions/${session.id}/upload`, { filename: 'f', content: 'aGk=', mimeType: 't' }),
    ).toMatchObject({ status: 404, body: { error: 'Session not found' } });
    expect(await bob.api.post(`/api/sessions/${session.id}/upload/delete`, { path: '/x' })).toMatchObject({
      status: 404,
      body: { error: 'Session not found' },
    });
    expect(
      (await alice.api.post('/api/sessions/none/upload', { filename: 'f', content: 'aGk=', mimeType: 't' })).status,
    ).toBe(404);
  });
});
