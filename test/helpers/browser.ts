// Headless Chromium (Debian's `chromium`, driven by puppeteer-core: no bundled browser download) for
// the browser suites, plus a recorder of everything a page does on the network and the console.
//
//   const browser = await launchChromium();          // null + reason when no chromium is installed
//   const page = await browser.newPage(); const log = new PageLog(page);
//   ...; expect(log.failures(allowed)).toEqual([]); expect(log.consoleErrors).toEqual([]);
//   await browser.close();                           // also removes the fresh --user-data-dir
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type HTTPRequest, type Page } from 'puppeteer-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The Chromium binary: CHROMIUM_BIN, else Debian's. Null when none is installed. */
export function chromiumPath(): string | null {
  const override = process.env.CHROMIUM_BIN;
  if (override) return existsSync(override) ? override : null;
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

export interface LaunchedBrowser {
  browser: Browser;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /**
   * Loopback ports the browser may reach. With these, Chromium runs in a network namespace of its
   * own (loopback only) and each port is forwarded to the same port on the host's loopback through
   * a Unix socket, so the page's URLs and origins are unchanged. Why: Chromium aborts in-flight
   * requests with net::ERR_NETWORK_CHANGED whenever an interface appears or vanishes on the host
   * (containers started by other suites); inside its own namespace nothing ever changes.
   */
  ports?: number[];
}

/**
 * The in-namespace half of the forwarder: listens on 127.0.0.1:<port> inside Chromium's
 * namespace and connects each client to the host through a Unix socket (paths are not
 * namespaced). It exits when Chromium (its parent after the exec) is gone.
 */
const INNER_FORWARDER = `
const net = require('node:net');
const pairs = JSON.parse(require('node:fs').readFileSync(process.argv[2], 'utf8'));
const parent = process.ppid;
for (const [port, sock] of pairs) {
  net.createServer((c) => { const u = net.connect(sock); c.pipe(u); u.pipe(c); c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); }).listen(port, '127.0.0.1');
}
setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 500);
`;

function canUnshare(): boolean {
  const probe = spawnSync('unshare', [...unshareArgs(), 'true'], { stdio: 'ignore', timeout: 10_000 });
  const ip = spawnSync('sh', ['-c', 'command -v ip'], { stdio: 'ignore' });
  return probe.status === 0 && ip.status === 0;
}

function unshareArgs(): string[] {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return root ? ['--net'] : ['--net', '--map-root-user'];
}

/**
 * Starts headless Chromium with a fresh profile. Flags keep it on loopback: no QUIC, no component
 * updates, no sync or background fetches (the suite's only traffic is to the hub under test).
 */
export async function launchChromium(options: LaunchOptions = {}): Promise<LaunchedBrowser> {
  const chromium = chromiumPath();
  if (!chromium) throw new Error('no chromium binary (apt-get install chromium, or set CHROMIUM_BIN)');
  const profile = mkdtempSync(join(tmpdir(), 'hapi-chromium-'));
  const servers: Server[] = [];
  let executablePath = chromium;
  if (options.ports && options.ports.length > 0 && canUnshare()) {
    const pairs: [number, string][] = [];
    for (const port of options.ports) {
      const sock = join(profile, `fwd-${port}.sock`);
      const server = createServer((client) => {
        const upstream = connect(port, '127.0.0.1');
        client.pipe(upstream);
        upstream.pipe(client);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
      });
      await new Promise<void>((ready) => server.listen(sock, ready));
      servers.push(server);
      pairs.push([port, sock]);
    }
    const forwarder = join(profile, 'forwarder.cjs');
    writeFileSync(forwarder, INNER_FORWARDER);
    writeFileSync(join(profile, 'forward.json'), JSON.stringify(pairs));
    const inner = join(profile, 'in-netns.sh');
    // A veth pair that goes nowhere: without a non-loopback link Chromium believes it is offline
    // (navigator.onLine false), and the app shows its offline banner.
    writeFileSync(
      inner,
      `#!/bin/sh\nip link set lo up || exit 1\nip link add hapi0 type veth peer name hapi1 && ip addr add 198.18.0.1/30 dev hapi0 && ip link set hapi0 up && ip link set hapi1 up\n"${process.execPath}" "${forwarder}" "${join(profile, 'forward.json')}" &\nexec "${chromium}" "$@"\n`,
    );
    chmodSync(inner, 0o755);
    executablePath = join(profile, 'chromium-netns.sh');
    writeFileSync(executablePath, `#!/bin/sh\nexec unshare ${unshareArgs().join(' ')} "${inner}" "$@"\n`);
    chmodSync(executablePath, 0o755);
  }
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    pipe: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      `--user-data-dir=${join(profile, 'profile')}`,
    ],
    defaultViewport: { width: 1280, height: 900 },
    protocolTimeout: 120_000,
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => undefined);
      for (const server of servers) server.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface NetworkEntry {
  method: string;
  url: string;
  /** Path and query, relative to the page's origin. */
  path: string;
  status: number | null;
  /** Set when the request failed without a response (aborted, connection reset, …). */
  failure?: string;
  resourceType: string;
}

/** Records a page's requests (with their final status) and its console errors. */
export class PageLog {
  readonly network: NetworkEntry[] = [];
  readonly consoleErrors: string[] = [];
  /** consoleErrors with the time each was logged. */
  readonly consoleEntries: { at: number; text: string }[] = [];
  private readonly byRequest = new Map<HTTPRequest, NetworkEntry>();

  constructor(page: Page) {
    page.on('request', (req) => {
      const url = new URL(req.url());
      const entry: NetworkEntry = {
        method: req.method(),
        url: req.url(),
        path: `${url.pathname}${url.search}`,
        status: null,
        resourceType: req.resourceType(),
      };
      this.byRequest.set(req, entry);
      this.network.push(entry);
    });
    page.on('response', (res) => {
      const entry = this.byRequest.get(res.request());
      if (entry) entry.status = res.status();
    });
    page.on('requestfailed', (req) => {
      const entry = this.byRequest.get(req);
      if (entry) entry.failure = req.failure()?.errorText ?? 'failed';
    });
    page.on('console', (msg) => {
      if (msg.type() === 'error') this.error(`${msg.text()} @ ${msg.location().url ?? ''}`);
    });
    page.on('pageerror', (error) => this.error(`pageerror: ${error instanceof Error ? error.message : String(error)}`));
  }

  private error(text: string): void {
    this.consoleErrors.push(text);
    this.consoleEntries.push({ at: Date.now(), text });
  }

  /** Route-shaped summary `METHOD /path-with-:ids → status` of /api requests, ids replaced. */
  apiRoutes(ids: Record<string, string> = {}): Map<string, Set<string>> {
    const routes = new Map<string, Set<string>>();
    for (const e of this.network) {
      if (!e.path.startsWith('/api/')) continue;
      let path = e.path.split('?')[0]!;
      for (const [name, value] of Object.entries(ids)) path = path.split(encodeURIComponent(value)).join(`:${name}`);
      const key = `${e.method} ${path}`;
      const set = routes.get(key) ?? new Set<string>();
      set.add(e.status === null ? (e.failure ?? 'pending') : String(e.status));
      routes.set(key, set);
    }
    return routes;
  }

  /** Requests that got a 4xx/5xx and are not excused by `allowed` (e.g. upstream's own 503s). */
  failures(allowed: (entry: NetworkEntry) => boolean = () => false): NetworkEntry[] {
    return this.network.filter((e) => e.status !== null && e.status >= 400 && !allowed(e));
  }
}

/** Every SSE message the page's EventSources receive (via the DevTools protocol), for diagnosis. */
export async function recordEventSource(page: Page): Promise<{ at: number; url: string; data: string }[]> {
  const received: { at: number; url: string; data: string }[] = [];
  const cdp = await page.createCDPSession();
  const urls = new Map<string, string>();
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
  cdp.on('Network.eventSourceMessageReceived', (e) =>
    received.push({ at: Date.now(), url: urls.get(e.requestId) ?? '', data: e.data }),
  );
  await cdp.send('Network.enable');
  return received;
}
