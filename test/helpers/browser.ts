// Headless Chromium (Debian's `chromium`, driven by puppeteer-core: no bundled browser download) for
// the browser suites, plus a recorder of everything a page does on the network and the console.
//
//   const browser = await launchChromium();          // null + reason when no chromium is installed
//   const page = await browser.newPage(); const log = new PageLog(page);
//   ...; expect(log.failures(allowed)).toEqual([]); expect(log.consoleErrors).toEqual([]);
//   await browser.close();                           // also removes the fresh --user-data-dir
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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

/**
 * Starts headless Chromium with a fresh profile. Flags keep it on loopback: no QUIC, no component
 * updates, no sync or background fetches (the suite's only traffic is to the hub under test).
 */
export async function launchChromium(): Promise<LaunchedBrowser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('no chromium binary (apt-get install chromium, or set CHROMIUM_BIN)');
  const profile = mkdtempSync(join(tmpdir(), 'hapi-chromium-'));
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
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
      `--user-data-dir=${profile}`,
    ],
    defaultViewport: { width: 1280, height: 900 },
    protocolTimeout: 120_000,
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => undefined);
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
  private readonly byRequest = new Map<HTTPRequest, NetworkEntry>();

  constructor(page: Page) {
    page.on('request', (req) => {
      const url = new URL(req.url());
      const entry: NetworkEntry = { method: req.method(), url: req.url(), path: `${url.pathname}${url.search}`, status: null, resourceType: req.resourceType() };
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
      if (msg.type() === 'error') this.consoleErrors.push(`${msg.text()} @ ${msg.location().url ?? ''}`);
    });
    page.on('pageerror', (error) => this.consoleErrors.push(`pageerror: ${error instanceof Error ? error.message : String(error)}`));
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
