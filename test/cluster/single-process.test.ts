// `hapi-hub serve` as a real process without the cluster: HAPI_WORKERS=1 keeps the single-process
// path and drains on SIGTERM like a cluster worker does; HAPI_WORKERS>1 without Redis is refused.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket as NetSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { connectCli, disconnected } from '../helpers/cli-client.js';
import { findFreePort, httpStatus, waitFor } from '../helpers/cluster.js';
import { sessionMetadata } from '../helpers/fixtures.js';
import { openSse } from '../helpers/sse-client.js';
import { loginWeb } from '../helpers/web-api.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DRAIN_TIMEOUT_MS = 8_000;

interface HubProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const scratch = mkdtempSync(join(tmpdir(), 'hapi-single-process-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const started: HubProcess[] = [];
afterEach(() => {
  for (const hub of started.splice(0))
    if (hub.child.exitCode === null && hub.child.signalCode === null) hub.child.kill('SIGKILL');
});

function spawnHub(env: Record<string, string>): HubProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', HAPI_LISTEN_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit({ code, signal })),
  );
  const hub = { child, output: () => text, exited };
  started.push(hub);
  return hub;
}

/** Opens a raw connection and sends `head`; the rest of the request is sent later by the test. */
function startRequest(port: number, head: string): Promise<{ socket: NetSocket; response: Promise<string> }> {
  return new Promise((resolveStart, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    const response = new Promise<string>((resolveResponse) => socket.once('close', () => resolveResponse(text)));
    socket.once('error', reject);
    socket.once('connect', () => socket.write(head, () => resolveStart({ socket, response })));
  });
}

/**
 * True once the hub has read everything this client sent on `socket`: the hub's end of the
 * connection has an empty receive queue in /proc/net/tcp. Node parses what it reads in the same
 * turn, so the request has begun on the hub's side and the drain treats the connection as busy,
 * not idle. (A written request may still sit in the kernel when the signal lands otherwise.)
 */
function hubHasRead(port: number, socket: NetSocket): boolean {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
  const loopback = '0100007F';
  const hubEnd = `${loopback}:${hex(port)} ${loopback}:${hex(socket.localPort ?? 0)}`;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (`${fields[1]} ${fields[2]}` !== hubEnd) continue;
    const receiveQueue = fields[4]?.split(':')[1];
    return receiveQueue !== undefined && Number.parseInt(receiveQueue, 16) === 0;
  }
  return false;
}

describe('hapi-hub serve without a cluster', () => {
  it.each([
    ['memory', 'HAPI_ENGINE=memory'],
    ['sqlite', 'no REDIS_URL (the default engine)'],
  ])(
    'refuses HAPI_WORKERS > 1 with the %s engine (%s), naming the variables, before touching its data dir',
    async (engine) => {
      const dataDir = join(scratch, engine);
      const hub = spawnHub({
        HAPI_WORKERS: '2',
        HAPI_LISTEN_PORT: String(await findFreePort()),
        CLI_API_TOKEN: 'single-process-token',
        HAPI_DATA_DIR: dataDir,
        ...(engine === 'memory' ? { HAPI_ENGINE: 'memory' } : {}),
      });
      const exit = await hub.exited;
      expect(exit.code).toBe(1);
      expect(hub.output()).toMatch(/HAPI_WORKERS: 2 workers need REDIS_URL/);
      expect(hub.output()).toContain(`the ${engine} engine keeps`);
      expect(hub.output()).not.toMatch(/at .*\.ts:\d+/); // a message, not a stack trace
      expect(existsSync(dataDir)).toBe(false);
    },
    60_000,
  );

  it('HAPI_WORKERS=1 drains on SIGTERM: readiness off, sockets moved away, SSE ended, in-flight requests finished', async () => {
    const port = await findFreePort();
    const token = randomBytes(16).toString('base64url');
    const url = `http://127.0.0.1:${port}`;
    const hub = spawnHub({
      HAPI_ENGINE: 'memory',
      HAPI_WORKERS: '1',
      HAPI_LISTEN_PORT: String(port),
      CLI_API_TOKEN: token,
      HAPI_DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS),
    });
    await waitFor('the hub to be ready', 60_000, async () => {
      if (hub.child.exitCode !== null) throw new Error(`hub exited:\n${hub.output()}`);
      return (await httpStatus(`${url}/ready`)) === 200;
    });

    const cli = await connectCli(url, { token }, { reconnection: false, timeoutMs: 15_000 });
    const stream = await openSse(url, { token: await loginWeb(url, token), query: { all: 'true' } });
    expect(stream.status).toBe(200);
    await stream.next();
    // Two requests whose heads have started arriving before the signal, finished during the drain.
    const body = JSON.stringify({ tag: 'in-flight', metadata: sessionMetadata(), agentState: {} });
    const slowPost = await startRequest(
      port,
      `POST /cli/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`,
    );
    const readyProbe = await startRequest(port, 'GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await waitFor('the hub to read both request heads', 10_000, () =>
      [slowPost, readyProbe].every(({ socket }) => hubHasRead(port, socket)),
    );

    const signalledAt = Date.now();
    hub.child.kill('SIGTERM');
    // The CLI is disconnected at the transport level, which socket.io-client answers by
    // reconnecting (reason "io server disconnect" would stop the real CLI from reconnecting).
    expect(await disconnected(cli, 10_000)).toBe('transport close');
    await stream.ended;
    expect(await httpStatus(`${url}/health`)).toBe(0); // no longer accepting connections

    readyProbe.socket.write('\r\n');
    const ready = await readyProbe.response;
    expect(ready).toMatch(/^HTTP\/1\.1 503 /);
    expect(ready).toMatch(/\r\nconnection: close\r\n/i);
    expect(ready).toContain('"reason":"draining"');
    slowPost.socket.write(body.slice(10));
    const created = await slowPost.response;
    expect(created).toMatch(/^HTTP\/1\.1 200 /);
    expect(JSON.parse(created.slice(created.indexOf('\r\n\r\n') + 4))).toMatchObject({
      session: { namespace: 'default', metadata: sessionMetadata(), metadataVersion: 1 },
    });

    expect(await hub.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(DRAIN_TIMEOUT_MS);
    expect(hub.output()).toMatch(/"msg":"drained"/);
  }, 90_000);
});
