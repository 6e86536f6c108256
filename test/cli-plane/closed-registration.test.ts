// HAPI_NAMESPACE_REGISTRATION=closed: the hub-wide token opens registered namespaces only; naming
// an unknown one is answered exactly like a bad token (CLI handshake, /cli REST, web /api/auth),
// registers nothing, and is logged once per name. On the memory engine and on a real Redis.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { createMemoryEngine } from '../../src/engine/memory/engine.js';
import { createRedisEngine } from '../../src/engine/redis/engine.js';
import type { Engine } from '../../src/engine/engine.js';
import type { EngineOptions } from '../../src/engine/types.js';
import { NamespaceAdmin } from '../../src/services/auth.js';
import { cliRest, connectCli, connectError, httpJson } from '../helpers/cli-client.js';
import { uniqueNamespace } from '../helpers/fixtures.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { captureLogs, type CapturedLogs } from '../helpers/log-capture.js';
import { getTestRedisUrl } from '../helpers/redis-server.js';

const OPTIONS: EngineOptions = { eventLogMaxEvents: 1024, eventLogMaxBytes: 8 * 1024 * 1024, messageHistoryLimit: 0 };

interface EngineUnderTest {
  name: string;
  open(): Promise<{ engine: Engine; close(): Promise<void> }>;
}

const ENGINES: EngineUnderTest[] = [
  {
    name: 'memory',
    async open() {
      const engine = createMemoryEngine(OPTIONS);
      return { engine, close: () => engine.close() };
    },
  },
  {
    name: 'redis',
    async open() {
      const redis = await getTestRedisUrl();
      const engine = await createRedisEngine(redis.url, OPTIONS);
      return {
        engine,
        async close() {
          await engine.close();
          await redis.stop();
        },
      };
    },
  },
];

const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

async function connect(t: TestHub, token: string): Promise<Socket> {
  const socket = await connectCli(t.url, { token });
  sockets.push(socket);
  return socket;
}

function serverNamespace(t: TestHub, socket: Socket): string | undefined {
  const server = t.hub.io.of('/cli').sockets.get(socket.id ?? '');
  return (server?.data as { namespace?: string } | undefined)?.namespace;
}

function webAuth(t: TestHub, accessToken: string) {
  return httpJson(`${t.url}/api/auth`, { method: 'POST', body: { accessToken } });
}

function refusalLines(logs: CapturedLogs, namespace: string): Record<string, unknown>[] {
  return logs
    .lines()
    .filter((line) => line.namespace === namespace && String(line.msg).includes('closed registration'));
}

describe.each(ENGINES)('closed namespace registration ($name engine)', (under) => {
  let closeEngine: () => Promise<void> = async () => undefined;
  let engine: Engine;
  let closed: TestHub;
  let open: TestHub;
  let logs: CapturedLogs;

  beforeAll(async () => {
    const opened = await under.open();
    engine = opened.engine;
    closeEngine = opened.close;
    logs = captureLogs('warn');
    closed = await startTestHub({ engine, namespaceRegistration: 'closed', log: logs.log });
    // The same shared registry seen by a hub in open mode (as after a config change on one host).
    open = await startTestHub({ engine, cliApiToken: closed.token, namespaceRegistration: 'open' });
  });
  afterAll(async () => {
    await closed?.close();
    await open?.close();
    await closeEngine();
  });

  it('refuses the hub token for an unknown namespace exactly like a bad token, and registers nothing', async () => {
    const stranger = uniqueNamespace('stranger');
    const badToken = `not-the-token:${stranger}`;

    const unknownCli = await connectError(closed.url, { token: closed.tokenFor(stranger) });
    const badCli = await connectError(closed.url, { token: badToken });
    expect(unknownCli.message).toBe('Invalid token');
    expect({ message: unknownCli.message, data: unknownCli.data }).toEqual({
      message: badCli.message,
      data: badCli.data,
    });

    const unknownWeb = await webAuth(closed, closed.tokenFor(stranger));
    const badWeb = await webAuth(closed, badToken);
    expect(unknownWeb.status).toBe(401);
    expect({ status: unknownWeb.status, body: unknownWeb.body }).toEqual({ status: badWeb.status, body: badWeb.body });

    const unknownRest = await cliRest(closed.url, closed.tokenFor(stranger)).getSession('x');
    const badRest = await cliRest(closed.url, badToken).getSession('x');
    expect(unknownRest.status).toBe(401);
    expect({ status: unknownRest.status, body: unknownRest.body }).toEqual({
      status: badRest.status,
      body: badRest.body,
    });

    expect(await engine.namespaces.get(stranger)).toBeNull();
  });

  it('logs a refused namespace once, however often it is tried', async () => {
    const stranger = uniqueNamespace('retry');
    for (let attempt = 0; attempt < 3; attempt++) {
      expect((await connectError(closed.url, { token: closed.tokenFor(stranger) })).message).toBe('Invalid token');
    }
    expect((await webAuth(closed, closed.tokenFor(stranger))).status).toBe(401);
    const lines = refusalLines(logs, stranger);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, namespace: stranger });
    // The token itself never reaches the log.
    expect(JSON.stringify(logs.lines())).not.toContain(closed.token);
  });

  it('opens namespaces created with `ns create` (hub token and their own token) and default', async () => {
    const tenant = uniqueNamespace('tenant');
    const { token } = await new NamespaceAdmin(engine, closed.clock.fn).create(tenant);

    expect(serverNamespace(closed, await connect(closed, closed.tokenFor(tenant)))).toBe(tenant);
    expect(serverNamespace(closed, await connect(closed, `${token}:${tenant}`))).toBe(tenant);
    expect(serverNamespace(closed, await connect(closed, closed.token))).toBe('default');
    expect((await webAuth(closed, closed.tokenFor(tenant))).status).toBe(200);
    expect(refusalLines(logs, tenant)).toEqual([]);
  });

  it('keeps refusing a revoked namespace', async () => {
    const tenant = uniqueNamespace('revoked');
    const admin = new NamespaceAdmin(engine, closed.clock.fn);
    await admin.create(tenant);
    await admin.revoke(tenant);
    expect((await connectError(closed.url, { token: closed.tokenFor(tenant) })).message).toBe('Invalid token');
    expect((await webAuth(closed, closed.tokenFor(tenant))).status).toBe(401);
  });

  it('open registration (the default) registers a named namespace, which closed mode then accepts', async () => {
    const named = uniqueNamespace('named');
    expect(open.config.namespaceRegistration).toBe('open');
    expect(serverNamespace(open, await connect(open, open.tokenFor(named)))).toBe(named);
    expect(await engine.namespaces.get(named)).toMatchObject({ name: named, tokenHash: null, revoked: false });
    // Registered earlier (e.g. before the switch to closed): known, so it stays open.
    expect(serverNamespace(closed, await connect(closed, closed.tokenFor(named)))).toBe(named);
  });
});
