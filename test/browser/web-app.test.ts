// The real HAPI 0.30.7 web app in headless Chromium against a 2-host × 2-worker cluster behind
// HAProxy (issue #14). The app is installed at test time with `hapi-hub web install` from the
// upstream binary the interop suite installs, and served by the hub itself (HAPI_WEB_DIR). The
// sessions are real: the real `hapi` runner spawns `hapi claude` with the interop suite's stand-in
// `claude` (helpers/hapi-cli.ts). Steps run in order on one page; each saves a screenshot under
// results/browser/. Every 4xx/5xx in the page's network log and every console error fails the
// suite, except what upstream itself answers in the same situation (listed in UPSTREAM_ANSWERS).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumPath,
  launchChromium,
  PageLog,
  recordEventSource,
  type LaunchedBrowser,
  type NetworkEntry,
} from '../helpers/browser.js';
import { cliRest } from '../helpers/cli-client.js';
import { startCluster, type HubHost, type TestCluster } from '../helpers/cluster.js';
import { createSession, sessionMetadata, uniqueNamespace } from '../helpers/fixtures.js';
import { ensureHapiCli, HapiProcesses, pollUntil, type HapiProcess } from '../helpers/hapi-cli.js';
import { WebClient } from '../interop/support.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOTS = join(ROOT, 'results', 'browser');
const STEP_TIMEOUT_MS = 60_000;

const cli = await ensureHapiCli();
const chromium = chromiumPath();
const skipReason = !cli.bin ? cli.reason : !chromium ? 'no chromium (apt-get install chromium)' : undefined;
if (skipReason) console.log(`[browser] skipped: ${skipReason}`);

/** 4xx/5xx that upstream 0.30.7 gives in the same situation (none expected in this flow). */
const UPSTREAM_ANSWERS: ((entry: NetworkEntry) => boolean)[] = [];

describe.skipIf(skipReason !== undefined)('the HAPI web app in a browser against the cluster', () => {
  let c: TestCluster;
  let webDir: string;
  let procs: HapiProcesses;
  let runner: HapiProcess;
  let launched: LaunchedBrowser;
  let page: Page;
  let log: PageLog;
  let sse: Awaited<ReturnType<typeof recordEventSource>>;
  let web: WebClient;
  let machineId: string;
  let sid: string;
  let sessionName: string;
  let bobSessionName: string;
  const ns = uniqueNamespace('alice');
  const bobNs = uniqueNamespace('bob');
  const startedAt = Date.now();
  /** Console errors and failed requests that a kill -9 of the SSE host causes by itself. */
  const killWindow = { from: Number.POSITIVE_INFINITY, to: Number.POSITIVE_INFINITY };

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  }

  // Page-side code is passed as strings: this file is compiled without the DOM library.
  const bodyText = (): Promise<string> => page.evaluate('document.body.innerText') as Promise<string>;

  async function waitForText(text: string, count = 1, timeoutMs = STEP_TIMEOUT_MS): Promise<void> {
    await page.waitForFunction(`document.body.innerText.split(${JSON.stringify(text)}).length - 1 >= ${count}`, {
      timeout: timeoutMs,
      polling: 100,
    });
  }

  async function _clickText(selector: string, text: string): Promise<void> {
    await page.locator(`${selector}::-p-text(${text})`).setTimeout(STEP_TIMEOUT_MS).click();
  }

  async function sendPrompt(text: string): Promise<void> {
    const input = page.locator('[data-testid="rich-composer-input"]').setTimeout(STEP_TIMEOUT_MS);
    await input.click();
    await page.keyboard.type(text);
    await page.locator('button[aria-label="Send"]').setTimeout(STEP_TIMEOUT_MS).click();
  }

  /** Waits until the page's EventSource for `query` (e.g. `all=true`) got its connection-changed. */
  async function streamConnected(query: string, after = 0, timeoutMs = STEP_TIMEOUT_MS): Promise<void> {
    await pollUntil(
      () => sse.some((m) => m.at >= after && m.url.includes(query) && m.data.includes('"connection-changed"')),
      `the page's SSE stream ${query}`,
      timeoutMs,
      50,
    );
  }

  /** The hub host HAProxy pins this browser to (its `hapi_lb` cookie), i.e. the one holding its SSE. */
  async function browserHost(): Promise<HubHost> {
    const cookie = (await page.browserContext().cookies()).find((ck) => ck.name === 'hapi_lb');
    const host = c.hosts.find((h) => h.name === cookie?.value);
    if (!host)
      throw new Error(
        `no hapi_lb cookie naming a host (cookies: ${JSON.stringify(await page.browserContext().cookies())})`,
      );
    return host;
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    webDir = mkdtempSync(join(tmpdir(), 'hapi-web-'));
    // The operator's command, as a subprocess: the app comes out of the upstream binary.
    const install = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts', 'web', 'install', '--from', cli.bin!, '--to', join(webDir, 'app')],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 180_000,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
      },
    );
    expect(install.status, `${install.stdout}\n${install.stderr}`).toBe(0);
    expect(install.stdout).toMatch(/installed the HAPI 0\.30\.7 web app: \d+ files/);

    c = await startCluster({
      hosts: 2,
      workersPerHost: 2,
      env: { HAPI_WEB_DIR: join(webDir, 'app'), LOG_LEVEL: 'warn' },
    });
    procs = new HapiProcesses(cli.bin!);
    const workspace = procs.tempDir('workspace');
    runner = procs.spawn(['runner', 'start-sync', '--workspace-root', workspace], {
      hubUrl: c.lbUrl,
      token: `${c.token}:${ns}`,
      pathPrepend: [procs.fakeBin],
    });
    machineId = (await runner.waitForOutput(/Machine ID:\s+(\S+)/, 90_000))[1]!;
    web = await WebClient.login(c.lbUrl, `${c.token}:${ns}`);
    await pollUntil(
      async () => (await web.machine(machineId))?.runnerState?.status === 'running',
      'runner online',
      60_000,
    );
    const spawned = await web.post(`/api/machines/${machineId}/spawn`, { directory: workspace, agent: 'claude' });
    expect(spawned.body.type, JSON.stringify(spawned.body)).toBe('success');
    sid = spawned.body.sessionId as string;
    await pollUntil(async () => (await web.session(sid)).active === true, 'session active', 60_000);
    sessionName = workspace.split('/').pop()!;
    // Another tenant with a session of its own: it must never appear on alice's page.
    bobSessionName = `bob-private-${bobNs}`;
    await createSession(cliRest(c.lbUrl, `${c.token}:${bobNs}`), {
      metadata: sessionMetadata({ name: bobSessionName, path: '/srv/bob-only' }),
    });

    launched = await launchChromium({ ports: [Number(new URL(c.lbUrl).port)] });
    page = await launched.browser.newPage();
    log = new PageLog(page);
    sse = await recordEventSource(page);
    console.log(`[browser] web install + cluster + runner + session ready in ${Date.now() - startedAt} ms`);
  }, 420_000);

  afterAll(async () => {
    const routes = log
      ? [...log.apiRoutes({ sid, machineId })].map(([k, v]) => `${k} → ${[...v].join(',')}`).sort()
      : [];
    console.log(`[browser] routes the app called:\n  ${routes.join('\n  ')}`);
    await launched?.close();
    await procs?.cleanup();
    await c?.stop();
    if (webDir) rmSync(webDir, { recursive: true, force: true });
    console.log(`[browser] suite time ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  }, 120_000);

  it(
    'logs in with a namespace token and lists only that namespace',
    async () => {
      await page.goto(`${c.lbUrl}/`, { waitUntil: 'domcontentloaded' });
      await page.locator('input[placeholder="Access token"]').setTimeout(STEP_TIMEOUT_MS).fill(`${c.token}:${ns}`);
      await page.locator('button[type=submit]').click();
      await waitForText(sessionName);
      await streamConnected('all=true');
      await shot('01-sessions');
      const text = await bodyText();
      expect(text).toContain(sessionName);
      expect(text).not.toContain(bobSessionName);
      expect(text).not.toContain('bob-only');
    },
    STEP_TIMEOUT_MS * 2,
  );

  it(
    'opens the session, sends a prompt and shows the reply live',
    async () => {
      await page.locator(`div[title="${sessionName}"]`).setTimeout(STEP_TIMEOUT_MS).click();
      await page.locator('[data-testid="rich-composer-input"]').setTimeout(STEP_TIMEOUT_MS).wait();
      // The session page applies live events from its own stream (sessionId=…); prompt once it is up.
      // The 0.30.7 app sometimes never opens that stream after an in-app navigation right after
      // login (a client-side race: seen against an upstream hub too, 1 run in 4); a reload of the
      // session URL always opens it.
      const opened = Date.now();
      const connected = await streamConnected(`sessionId=${sid}`, 0, 10_000).then(
        () => true,
        () => false,
      );
      if (!connected) {
        console.log(`[browser] the session stream did not open within 10 s of the navigation; reloading ${page.url()}`);
        await page.reload({ waitUntil: 'domcontentloaded' });
        await streamConnected(`sessionId=${sid}`, opened);
      }
      await shot('02-session');
      await sendPrompt('hello from the browser');
      // The hub has the reply (from the CLI, over the cluster) → the page must show it without a reload.
      const stored = await pollUntil(
        async () => {
          const res = await web.get(`/api/sessions/${sid}/messages`);
          return JSON.stringify(res.body).includes('fake reply') ? Date.now() : 0;
        },
        'the reply stored by the hub',
        120_000,
      );
      await waitForText('fake reply', 1, 15_000).catch((error: unknown) => {
        const since = 0;
        console.log(
          log.network
            .filter((e) => e.path.startsWith('/api/events'))
            .map((e) => `${e.path.replace(/token=[^&]+/, 'token=…')} ${e.status} ${e.failure ?? ''}`)
            .join('\n'),
        );
        console.log(
          `[browser] SSE messages around the reply:\n${sse
            .filter((m) => m.at > since)
            .map(
              (m) =>
                `${m.at - stored} ${m.url.replace(/token=[^&]+/, 'token=…').slice(0, 120)} ${m.data.slice(0, 160)}`,
            )
            .join('\n')}`,
        );
        throw error;
      });
      console.log(`[browser] reply shown ${Date.now() - stored} ms after the hub stored it`);
      await shot('03-reply');
      expect(await bodyText()).toContain('hello from the browser');
    },
    STEP_TIMEOUT_MS * 3,
  );

  it(
    'shows a permission request and approves it',
    async () => {
      await sendPrompt('please FAKE_TOOL_REQUEST now');
      await waitForText('echo interop-');
      await shot('04-permission');
      await page.locator('button::-p-text(Allow)').setTimeout(STEP_TIMEOUT_MS).click();
      await waitForText('tool allowed');
      await shot('05-approved');
    },
    STEP_TIMEOUT_MS * 3,
  );

  it(
    'renames the session from its menu',
    async () => {
      await page.locator('button[title="More actions"]').setTimeout(STEP_TIMEOUT_MS).click();
      await shot('06-menu');
      await page.locator('[role="menuitem"]::-p-text(Rename)').setTimeout(STEP_TIMEOUT_MS).click();
      const input = page.locator('[role="dialog"] input').setTimeout(STEP_TIMEOUT_MS);
      // Keystrokes sent while the dialog is still taking focus can be lost (a run stored "named in
      // the browser"): fill again until the field holds the whole name, then submit.
      await pollUntil(
        async () => {
          await input.fill('renamed in the browser');
          const value = await page.evaluate(`document.querySelector('[role="dialog"] input')?.value`);
          return value === 'renamed in the browser';
        },
        'the rename dialog to hold the new name',
        STEP_TIMEOUT_MS,
      );
      await shot('07-rename-dialog');
      await page.keyboard.press('Enter');
      await pollUntil(
        async () => (await web.session(sid)).metadata?.name === 'renamed in the browser',
        'the rename stored by the hub',
        STEP_TIMEOUT_MS,
      );
      await waitForText('renamed in the browser');
      await shot('08-renamed');
    },
    STEP_TIMEOUT_MS * 3,
  );

  it(
    'keeps updating after kill -9 of the host holding its SSE stream',
    async () => {
      const victim = await browserHost();
      const survivor = c.hosts.find((h) => h !== victim)!;
      const before = sse.length;
      killWindow.from = Date.now();
      await c.killHost(victim);
      console.log(`[browser] killed ${victim.name} (the page's host); ${survivor.name} serves on`);
      // A change made elsewhere reaches the page only through its resumed stream.
      await pollUntil(
        async () =>
          (await web.request('PATCH', `/api/sessions/${sid}`, { name: 'renamed after the kill' })).status === 200,
        'rename through the survivor',
        STEP_TIMEOUT_MS,
      );
      await waitForText('renamed after the kill');
      const resumed = sse.slice(before).filter((m) => m.data.includes('"connection-changed"'));
      expect(resumed.length, 'the page reconnected its streams').toBeGreaterThan(0);
      console.log(
        `[browser] page streams after the kill: ${resumed.map((m) => `${m.url.includes('all=true') ? 'all' : 'session'} ${JSON.parse(m.data).data.resume}`).join(', ')}`,
      );
      await shot('09-after-kill');
      // And the conversation goes on: the CLI reconnected to the survivor too.
      await pollUntil(async () => (await web.session(sid)).active === true, 'session active again', STEP_TIMEOUT_MS);
      killWindow.to = Date.now();
      await sendPrompt('still there after the kill?');
      await waitForText('fake reply', 2);
      await shot('10-reply-after-kill');
      expect(await browserHost()).toBe(survivor);
      await c.startHost(victim);
    },
    STEP_TIMEOUT_MS * 5,
  );

  it(
    'archives the session from its menu',
    async () => {
      await page.locator('button[title="More actions"]').setTimeout(STEP_TIMEOUT_MS).click();
      await page.locator('[role="menuitem"]::-p-text(Archive)').setTimeout(STEP_TIMEOUT_MS).click();
      await shot('11-archive-confirm');
      await page
        .locator('[role="alertdialog"] button::-p-text(Archive), [role="dialog"] button::-p-text(Archive)')
        .setTimeout(STEP_TIMEOUT_MS)
        .click();
      await pollUntil(
        async () => {
          const session = await web.session(sid);
          return session.active === false && session.metadata?.lifecycleState === 'archived';
        },
        'the session archived and inactive',
        STEP_TIMEOUT_MS,
      );
      await shot('12-archived');
    },
    STEP_TIMEOUT_MS * 3,
  );

  it('gave no 4xx/5xx upstream would not give, and logged no console error', () => {
    const duringKill = (at: number) => at >= killWindow.from && at <= killWindow.to;
    const failures = log.failures((e) => UPSTREAM_ANSWERS.some((allowed) => allowed(e)));
    expect(failures.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([]);
    // A killed host cuts the page's open streams and requests: the network errors Chromium logs for
    // those (and only those) are the kill's, not the hub's.
    // ERR_NETWORK_CHANGED is Chromium aborting a request because a network interface of the
    // machine changed (containers of this or another suite starting); no hub answer is involved, and
    // every step above checked what the page showed.
    const errors = log.consoleEntries.filter(
      (e) =>
        !(
          duringKill(e.at) &&
          /net::ERR_(INCOMPLETE_CHUNKED_ENCODING|EMPTY_RESPONSE|CONNECTION_RESET|CONNECTION_REFUSED)/.test(e.text)
        ) && !e.text.includes('net::ERR_NETWORK_CHANGED'),
    );
    expect(errors.map((e) => e.text)).toEqual([]);
  });
});
