// `hapi-hub web install [--from <hapi binary>] [--to <dir>] [--install]`: copies the upstream HAPI
// web app out of a locally installed upstream `hapi` binary.
//
// The app's files exist only inside the upstream binary (a Bun single-file executable). The one
// supported way to read them is to let the binary serve them: we start `hapi hub` on a free
// loopback port with a throw-away HOME/HAPI_HOME (so it never touches ~/.hapi), download `/`,
// `/sw.js`, every entry of the service worker's precache list and every `url(...)` the style
// sheets reference, verify them (precache revisions are MD5s of the files; a missing file would come
// back as the SPA's index.html), write them to a staging directory and rename it into place, then
// stop the hub. Nothing leaves loopback: proxies point at a closed port. The files are the upstream
// project's (its licence applies); they are never part of this repository or its image.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';

export const UPSTREAM_PACKAGE = '@twsxtd/hapi-linux-x64';
export const UPSTREAM_VERSION = '0.30.7';
const MARKER = '.hapi-web-install.json';
const START_TIMEOUT_MS = 60_000;
const FETCH_TIMEOUT_MS = 30_000;
const MAX_FILES = 2_000;

export class WebInstallError extends Error {}

export interface WebInstallOptions {
  /** The upstream `hapi` binary; default: `hapi` on PATH, else the package installed by `install`. */
  from?: string;
  to: string;
  /** Install the upstream npm package (into `cacheDir`) when no binary is found. */
  install?: boolean;
  cacheDir?: string;
  log?: (line: string) => void;
}

export interface WebInstallResult {
  dir: string;
  files: number;
  bytes: number;
  version: string;
}

export function parseWebInstallArgs(args: string[], defaults: { to: string }): WebInstallOptions {
  const options: WebInstallOptions = { to: defaults.to };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const value = (): string => {
      const next = args[++i];
      if (next === undefined || next.startsWith('--')) throw new WebInstallError(`${arg} needs a value`);
      return next;
    };
    // A template literal: test/deploy scans dist/ for package imports and would read a quoted --from as one.
    if (arg === `--from`) options.from = resolve(value());
    else if (arg === '--to') options.to = resolve(value());
    else if (arg === '--install') options.install = true;
    else
      throw new WebInstallError(
        `unknown option ${arg}\nusage: hapi-hub web install [--from <hapi binary>] [--to <dir>] [--install]`,
      );
  }
  return options;
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = join(dir, name);
    try {
      if (dir && statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function packageBin(prefix: string): string {
  return join(prefix, 'node_modules', ...UPSTREAM_PACKAGE.split('/'), 'bin', 'hapi');
}

/** A scratch environment: nothing the binary writes lands outside `home`, nothing leaves loopback. */
function isolatedEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: '/usr/bin:/bin',
    HOME: home,
    HAPI_HOME: join(home, 'hapi'),
    TMPDIR: home,
    LANG: 'C.UTF-8',
    HTTP_PROXY: 'http://127.0.0.1:9',
    HTTPS_PROXY: 'http://127.0.0.1:9',
    http_proxy: 'http://127.0.0.1:9',
    https_proxy: 'http://127.0.0.1:9',
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    ...extra,
  };
}

function versionOf(bin: string, scratch: string): string {
  const res = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 60_000, env: isolatedEnv(scratch) });
  const match = res.status === 0 ? /(\d+\.\d+\.\d+)/.exec(res.stdout) : null;
  if (!match)
    throw new WebInstallError(
      `${bin} is not a runnable hapi binary (${res.error?.message ?? `exit ${res.status}: ${res.stderr.trim().slice(0, 200)}`})`,
    );
  return match[1] ?? '';
}

function resolveBinary(options: WebInstallOptions, log: (line: string) => void): string {
  if (options.from) {
    if (!existsSync(options.from)) throw new WebInstallError(`--from ${options.from}: no such file`);
    return options.from;
  }
  const found = onPath('hapi');
  if (found) return found;
  const cacheDir =
    options.cacheDir ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'hapi-hub', 'hapi-cli');
  if (existsSync(packageBin(cacheDir))) return packageBin(cacheDir);
  if (!options.install) {
    throw new WebInstallError(
      `no upstream hapi binary: pass --from <path to hapi>, put hapi on PATH, or add --install to install ${UPSTREAM_PACKAGE}@${UPSTREAM_VERSION} from npm`,
    );
  }
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new WebInstallError(
      `${UPSTREAM_PACKAGE} runs only on linux-x64 (this is ${process.platform}-${process.arch})`,
    );
  log(`installing ${UPSTREAM_PACKAGE}@${UPSTREAM_VERSION} into ${cacheDir}`);
  mkdirSync(dirname(cacheDir), { recursive: true });
  const res = spawnSync(
    'npm',
    [
      'install',
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--prefix',
      cacheDir,
      `${UPSTREAM_PACKAGE}@${UPSTREAM_VERSION}`,
    ],
    {
      encoding: 'utf8',
      timeout: 10 * 60_000,
    },
  );
  if (res.status !== 0 || !existsSync(packageBin(cacheDir))) {
    throw new WebInstallError(
      `npm install ${UPSTREAM_PACKAGE}@${UPSTREAM_VERSION} failed: ${res.error?.message ?? res.stderr.trim().split('\n').slice(-3).join(' | ')}`,
    );
  }
  return packageBin(cacheDir);
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  const pid = child.pid;
  const signal = (sig: NodeJS.Signals) => {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, sig);
      } catch {
        // gone already
      }
    }
  };
  return new Promise((done) => {
    const timer = setTimeout(() => signal('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    signal('SIGTERM');
  });
}

async function fetchBytes(base: string, path: string): Promise<{ body: Buffer; type: string }> {
  const res = await fetch(`${base}${path}`, {
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    headers: { accept: '*/*' },
  });
  if (res.status !== 200) throw new WebInstallError(`GET ${path} answered ${res.status}`);
  return { body: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') ?? '' };
}

async function waitUntilServing(base: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new WebInstallError(`hapi hub exited before serving:\n${output().slice(-2000)}`);
    try {
      const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new WebInstallError(`hapi hub did not answer within ${START_TIMEOUT_MS} ms:\n${output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The precache list of a workbox service worker: `{"revision":…,"url":…}` entries. */
export function precacheEntries(sw: string): { url: string; revision: string | null }[] {
  const entries = new Map<string, string | null>();
  for (const m of sw.matchAll(/\{"revision":(null|"([0-9a-f]+)"),"url":"([^"]+)"\}/g))
    entries.set(m[3] ?? '', m[2] ?? null);
  return [...entries].map(([url, revision]) => ({ url, revision }));
}

/** Relative `url(...)` references of a style sheet, resolved against the sheet's own path. */
export function styleSheetRefs(cssPath: string, css: string): string[] {
  const refs = new Set<string>();
  for (const m of css.matchAll(/url\(\s*['"]?([^'")]+)['"]?\s*\)/g)) {
    const ref = (m[1] ?? '').split(/[?#]/)[0] ?? '';
    if (!ref || /^(data:|https?:|\/\/|#)/.test(ref)) continue;
    refs.add(ref.startsWith('/') ? ref.slice(1) : posix.normalize(posix.join(posix.dirname(cssPath), ref)));
  }
  return [...refs];
}

/** Downloads the app from a running upstream hub into `dir` (which must exist and be empty). */
export async function downloadWebApp(base: string, dir: string): Promise<{ files: number; bytes: number }> {
  const files = new Map<string, Buffer>();
  const index = await fetchBytes(base, '/');
  if (!index.type.includes('text/html')) throw new WebInstallError(`GET / is ${index.type}, not the web app's HTML`);
  files.set('index.html', index.body);
  const sw = await fetchBytes(base, '/sw.js');
  files.set('sw.js', sw.body);
  const entries = precacheEntries(sw.body.toString('utf8'));
  if (entries.length === 0) throw new WebInstallError('sw.js has no precache list: not the HAPI web app?');
  const queue = entries.map((e) => e.url);
  const revisions = new Map(entries.map((e) => [e.url, e.revision]));
  for (let rel = queue.shift(); rel !== undefined; rel = queue.shift()) {
    if (files.has(rel)) continue;
    if (files.size >= MAX_FILES) throw new WebInstallError(`more than ${MAX_FILES} files: refusing`);
    if (rel.includes('..') || rel.startsWith('/')) throw new WebInstallError(`unsafe path in the app: ${rel}`);
    const { body, type } = await fetchBytes(base, `/${rel.split('/').map(encodeURIComponent).join('/')}`);
    // The upstream hub answers unknown paths with index.html: that is a missing file, not a page.
    if (!rel.endsWith('.html') && type.includes('text/html'))
      throw new WebInstallError(`${rel}: the hub does not have it (got the SPA fallback)`);
    const revision = revisions.get(rel);
    // Upstream's binary lacks some precached pages (404.html) and answers them with index.html;
    // keep what it serves, so the service worker installs the same way against our hub.
    const fallbackPage = rel.endsWith('.html') && body.equals(index.body);
    if (revision && !fallbackPage && createHash('md5').update(body).digest('hex') !== revision)
      throw new WebInstallError(`${rel}: content does not match its precache revision ${revision}`);
    files.set(rel, body);
    if (rel.endsWith('.css')) queue.push(...styleSheetRefs(rel, body.toString('utf8')));
  }
  // Everything index.html loads must be there.
  for (const m of index.body.toString('utf8').matchAll(/(?:src|href)="\/([^"?#]+)"/g)) {
    if (!files.has(m[1] ?? ''))
      throw new WebInstallError(`index.html references /${m[1]} which the precache list lacks`);
  }
  let bytes = 0;
  for (const [rel, body] of files) {
    const target = join(dir, ...rel.split('/'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, body);
    bytes += body.length;
  }
  return { files: files.size, bytes };
}

function assertReplaceable(dir: string): void {
  if (!existsSync(dir)) return;
  const entries = readdirSync(dir);
  if (entries.length > 0 && !entries.includes(MARKER)) {
    throw new WebInstallError(`${dir} is not empty and not a previous web install: refusing to replace it`);
  }
}

export async function installWebApp(options: WebInstallOptions): Promise<WebInstallResult> {
  const log = options.log ?? (() => undefined);
  const to = resolve(options.to);
  assertReplaceable(to);
  const bin = resolveBinary(options, log);
  const scratch = mkdtempSync(join(tmpdir(), 'hapi-web-install-'));
  let child: ChildProcess | null = null;
  let out = '';
  const staging = `${to}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const version = versionOf(bin, scratch);
    if (version !== UPSTREAM_VERSION)
      log(`note: ${bin} is hapi ${version}; this hub is tested against ${UPSTREAM_VERSION}`);
    const port = await freeLoopbackPort();
    const base = `http://127.0.0.1:${port}`;
    log(`starting ${bin} hub on ${base} (throw-away HAPI_HOME ${join(scratch, 'hapi')})`);
    child = spawn(bin, ['hub'], {
      cwd: scratch,
      env: isolatedEnv(scratch, {
        HAPI_LISTEN_HOST: '127.0.0.1',
        HAPI_LISTEN_PORT: String(port),
        CLI_API_TOKEN: randomBytes(24).toString('base64url'),
      }),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const started = child;
    await waitUntilServing(base, started, () => out);
    mkdirSync(staging, { recursive: true });
    const { files, bytes } = await downloadWebApp(base, staging);
    writeFileSync(
      join(staging, MARKER),
      `${JSON.stringify({ source: bin, version, files, bytes, installedAt: new Date().toISOString() }, null, 2)}\n`,
    );
    rmSync(to, { recursive: true, force: true });
    mkdirSync(dirname(to), { recursive: true });
    renameSync(staging, to);
    return { dir: to, files, bytes, version };
  } finally {
    if (child) await stopGroup(child);
    rmSync(staging, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The `web` command: `web install …`. Returns the exit code. */
export async function runWebCommand(
  args: string[],
  defaults: { to: string },
  write: (line: string) => void,
  writeError: (line: string) => void,
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'install') {
    writeError('usage: hapi-hub web install [--from <hapi binary>] [--to <dir>] [--install]');
    return 2;
  }
  try {
    const options = parseWebInstallArgs(rest, defaults);
    const result = await installWebApp({ ...options, log: write });
    write(
      `installed the HAPI ${result.version} web app: ${result.files} files, ${(result.bytes / 1e6).toFixed(1)} MB in ${result.dir}`,
    );
    write(`serve it with HAPI_WEB_DIR=${result.dir}`);
    return 0;
  } catch (error) {
    if (error instanceof WebInstallError) {
      writeError(`web install: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
