// HAPI_WEB_DIR serving (src/http/static-files.ts) on a real hub: content types, SPA fallback only
// for page navigations outside the hub's own paths, cache headers, ETag revalidation, brotli/gzip,
// and nothing outside the directory. The directory is a stand-in app written by the test.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseEncoding } from '../../src/http/static-files.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

const INDEX =
  '<!doctype html><html><body><div id="root"></div><script src="/assets/app-abc123.js"></script></body></html>';
const APP_JS = `console.log(${JSON.stringify('x'.repeat(4000))});`;

let dir: string;
let hub: TestHub;

/** Raw HTTP (fetch would undo the content encoding this suite checks). */
function get(
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: Headers; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${hub.url}${path}`,
      { method, headers: { 'accept-encoding': 'identity', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
          resolve({ status: res.statusCode ?? 0, headers: h, body: Buffer.concat(chunks) });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hapi-static-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'sw.js'), 'self.addEventListener("install", () => {});');
  writeFileSync(join(dir, 'manifest.webmanifest'), '{"name":"HAPI"}');
  writeFileSync(join(dir, 'icon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(dir, 'pwa-64x64.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  writeFileSync(join(dir, 'assets', 'app-abc123.js'), APP_JS);
  writeFileSync(join(dir, '.hapi-web-install.json'), '{"secret":"not served"}');
  hub = await startTestHub({ webDir: dir });
});

afterAll(async () => {
  await hub?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('HAPI_WEB_DIR', () => {
  it('serves index.html at / and for client-side routes that accept HTML, uncached', async () => {
    for (const path of ['/', '/sessions/abc', '/settings/voice']) {
      const res = await get(path, { accept: 'text/html,application/xhtml+xml' });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache, no-store, must-revalidate');
      expect(res.body.toString()).toBe(INDEX);
    }
  });

  it('gives each file its content type; sw.js is never cached, hashed assets are immutable', async () => {
    const cases: [string, string, string][] = [
      ['/sw.js', 'text/javascript; charset=utf-8', 'no-cache, no-store, must-revalidate'],
      ['/assets/app-abc123.js', 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable'],
      ['/manifest.webmanifest', 'application/manifest+json; charset=utf-8', 'public, max-age=0, must-revalidate'],
      ['/icon.svg', 'image/svg+xml', 'public, max-age=0, must-revalidate'],
      ['/pwa-64x64.png', 'image/png', 'public, max-age=0, must-revalidate'],
    ];
    for (const [path, type, cache] of cases) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toBe(type);
      expect(res.headers.get('cache-control'), path).toBe(cache);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect((await get('/assets/app-abc123.js')).body.toString()).toBe(APP_JS);
  });

  it('revalidates with the ETag (304) and answers HEAD without a body', async () => {
    const first = await get('/assets/app-abc123.js');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await get('/assets/app-abc123.js', { 'if-none-match': etag! });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    const head = await get('/sw.js', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
  });

  it('compresses with brotli or gzip as the client asks, and not otherwise', async () => {
    const br = await get('/assets/app-abc123.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(br.headers.get('vary')).toMatch(/accept-encoding/i);
    expect(brotliDecompressSync(br.body).toString()).toBe(APP_JS);
    const gz = await get('/assets/app-abc123.js', { 'accept-encoding': 'gzip' });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(APP_JS);
    const plain = await get('/assets/app-abc123.js', { 'accept-encoding': 'br;q=0, gzip;q=0' });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(plain.body.toString()).toBe(APP_JS);
    const png = await get('/pwa-64x64.png', { 'accept-encoding': 'gzip, br' });
    expect(png.headers.get('content-encoding')).toBeNull();
    expect(chooseEncoding('gzip;q=1, br;q=0.5')).toBe('gzip');
    expect(chooseEncoding('*')).toBe('br');
    expect(chooseEncoding('')).toBeNull();
  });

  it('never answers the hub paths, missing non-page files, dotfiles or anything outside the directory with a file', async () => {
    const api = await get('/api/nothing-here', { accept: 'text/html' });
    expect(api.status).toBe(401);
    expect(JSON.parse(api.body.toString())).toEqual({ error: 'Missing authorization token' });
    const cli = await get('/cli/nothing-here', { accept: 'text/html' });
    expect(cli.headers.get('content-type')).toMatch(/application\/json/);
    expect((await get('/health', { accept: 'text/html' })).headers.get('content-type')).toMatch(/application\/json/);
    for (const path of [
      '/missing.png',
      '/.hapi-web-install.json',
      '/assets/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/assets/%00x.js',
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(JSON.parse(res.body.toString()), path).toEqual({ error: 'Not found', code: 'not_found' });
    }
    const post = await get('/sessions/abc', { accept: 'text/html' }, 'POST');
    expect(post.status).toBe(404);
  });
});
