// HAPI_WEB_DIR: the web app's static files at `/`, with SPA fallback to index.html.
//
// Caching: `sw.js` (the service worker) and HTML are revalidated on every load so a new app version
// is picked up; `/assets/*` carry content hashes in their names and are immutable. Every file has a
// strong ETag (sha1 of its bytes) so revalidation is a 304. Compressible files are gzip- or
// brotli-encoded when the client asks; encodings are computed once per file version and kept in
// memory (the whole app is ~10 MB), so any worker serves them without a build step.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import type { Context, Next } from 'koa';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** Already-compressed formats are sent as they are. */
const COMPRESSIBLE = new Set([
  '.html',
  '.js',
  '.mjs',
  '.css',
  '.json',
  '.webmanifest',
  '.svg',
  '.ico',
  '.ttf',
  '.otf',
  '.txt',
  '.map',
  '.wasm',
]);

/** Paths the hub itself owns: never answered from the web directory, never SPA-fallback. */
const HUB_PREFIXES = ['/api/', '/cli/', '/socket.io/'];
const HUB_PATHS = new Set(['/api', '/cli', '/socket.io', '/health', '/ready', '/metrics']);

interface CachedFile {
  key: string;
  body: Buffer;
  etag: string;
  type: string;
  encodings: Map<'br' | 'gzip', Promise<Buffer>>;
}

export function cacheControlFor(urlPath: string): string {
  if (urlPath === '/sw.js' || urlPath.endsWith('.html') || urlPath === '/')
    return 'no-cache, no-store, must-revalidate';
  if (urlPath.startsWith('/assets/')) return 'public, max-age=31536000, immutable';
  return 'public, max-age=0, must-revalidate';
}

/** The encoding to use for `accept` (q-values honoured; brotli preferred at equal q). */
export function chooseEncoding(accept: string): 'br' | 'gzip' | null {
  const q = new Map<string, number>();
  for (const part of accept.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qParam ? Number(qParam.slice(2)) : 1;
    q.set(name, Number.isFinite(value) ? value : 1);
  }
  const of = (name: string) => q.get(name) ?? q.get('*') ?? 0;
  const br = of('br');
  const gz = of('gzip');
  if (br > 0 && br >= gz) return 'br';
  if (gz > 0) return 'gzip';
  return null;
}

function isHubPath(path: string): boolean {
  return HUB_PATHS.has(path) || HUB_PREFIXES.some((prefix) => path.startsWith(prefix));
}

/** Koa middleware serving `dir`; requests it does not answer go on to `next` (the JSON 404). */
export function staticFiles(dir: string) {
  const root = resolve(dir);
  const cache = new Map<string, CachedFile>();

  async function load(file: string): Promise<CachedFile | null> {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(file);
    } catch {
      return null;
    }
    if (!info.isFile()) return null;
    const key = `${info.size}:${info.mtimeMs}`;
    const hit = cache.get(file);
    if (hit && hit.key === key) return hit;
    const body = await readFile(file);
    const entry: CachedFile = {
      key,
      body,
      etag: `"${createHash('sha1').update(body).digest('base64url')}"`,
      type: CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      encodings: new Map(),
    };
    cache.set(file, entry);
    return entry;
  }

  function encoded(entry: CachedFile, encoding: 'br' | 'gzip'): Promise<Buffer> {
    let pending = entry.encodings.get(encoding);
    if (!pending) {
      pending =
        encoding === 'br'
          ? brotliAsync(entry.body, {
              params: {
                [zlibConstants.BROTLI_PARAM_QUALITY]: 6,
                [zlibConstants.BROTLI_PARAM_SIZE_HINT]: entry.body.length,
              },
            })
          : gzipAsync(entry.body, { level: 6 });
      entry.encodings.set(encoding, pending);
    }
    return pending;
  }

  /** The file for a URL path inside root, or null (traversal, dotfiles, directories). */
  function fileFor(urlPath: string): string | null {
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      return null;
    }
    if (decoded.includes('\0') || decoded.split('/').some((seg) => seg.startsWith('.'))) return null;
    const file = resolve(join(root, decoded === '/' ? 'index.html' : decoded));
    return file === root || !file.startsWith(root + sep) ? null : file;
  }

  // Mounted last: it sees only requests no hub route answered.
  return async (ctx: Context, next: Next): Promise<void> => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || isHubPath(ctx.path)) return next();
    const file = fileFor(ctx.path);
    let entry = file ? await load(file) : null;
    let servedPath = ctx.path;
    // SPA fallback: a page navigation to a client-side route gets index.html.
    if (!entry && ctx.get('accept').includes('text/html')) {
      entry = await load(join(root, 'index.html'));
      servedPath = '/index.html';
    }
    if (!entry) return next();
    ctx.status = 200;
    ctx.set('Cache-Control', cacheControlFor(servedPath));
    ctx.set('ETag', entry.etag);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.type = entry.type;
    const compressible = COMPRESSIBLE.has(extname(servedPath === '/' ? 'index.html' : servedPath).toLowerCase());
    if (compressible) ctx.vary('Accept-Encoding');
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    const encoding = compressible && entry.body.length > 512 ? chooseEncoding(ctx.get('accept-encoding')) : null;
    if (encoding) {
      ctx.set('Content-Encoding', encoding);
      ctx.body = await encoded(entry, encoding);
    } else {
      ctx.body = entry.body;
    }
  };
}
