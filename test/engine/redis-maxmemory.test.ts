// The shipped Redis setups run with a password and `maxmemory` + `noeviction`. Against a real
// redis-server configured that way: the hub connects with REDIS_PASSWORD (and fails clearly with a
// wrong one, without printing it); once Redis is full, writes are refused as 503 / ack
// `unavailable` — nothing stored, nothing crashed, reads and /ready still served — and work again
// as soon as memory is available.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { loadConfig } from '../../src/config.js';
import { createRedisEngine } from '../../src/engine/redis/engine.js';
import type { Engine } from '../../src/engine/engine.js';
import { cliRest, connectCli, emitAck, httpJson } from '../helpers/cli-client.js';
import { findFreePort, waitFor } from '../helpers/cluster.js';
import { createSession, fetchAllMessages, uniqueNamespace } from '../helpers/fixtures.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

const PASSWORD = randomBytes(16).toString('hex');

describe('Redis with a password and maxmemory/noeviction', () => {
  let redis: ChildProcess;
  let port: number;
  let admin: Redis;
  let engine: Engine;
  let t: TestHub;
  let socket: Socket | undefined;

  beforeAll(async () => {
    port = await findFreePort();
    redis = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--requirepass',
        PASSWORD,
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    admin = new Redis({ port, host: '127.0.0.1', password: PASSWORD, lazyConnect: true, maxRetriesPerRequest: 0 });
    admin.on('error', () => undefined);
    await waitFor('redis-server', 15_000, async () => {
      try {
        await admin.connect();
        return (await admin.ping()) === 'PONG';
      } catch {
        admin.disconnect();
        return false;
      }
    });
    const config = loadConfig({ REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_PASSWORD: PASSWORD });
    engine = await createRedisEngine(config.redisUrl!, config);
    t = await startTestHub({ engine });
  }, 30_000);

  afterAll(async () => {
    socket?.close();
    await t?.close();
    await engine?.close();
    admin?.disconnect();
    redis?.kill('SIGKILL');
  });

  it('refuses a wrong password with a clear error that does not contain it', async () => {
    const wrong = 'definitely-not-it';
    const config = loadConfig({ REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_PASSWORD: wrong });
    const error = await createRedisEngine(config.redisUrl!, config).then(
      (unexpected) => {
        void unexpected.close();
        throw new Error('connected with a wrong password');
      },
      (e: unknown) => e as Error,
    );
    expect(error.message).toMatch(/WRONGPASS|invalid username-password|NOAUTH/i);
    expect(error.message).not.toContain(wrong);
    expect(error.message).not.toContain(PASSWORD);
  });

  it('a full Redis refuses writes as 503 / ack `unavailable`; reads and readiness go on; writes resume when memory is back', async () => {
    const ns = uniqueNamespace('full');
    const rest = cliRest(t.url, t.tokenFor(ns));
    const session = await createSession(rest);
    socket = await connectCli(t.url, { token: t.tokenFor(ns), sessionId: session.id });
    const send = (text: string) =>
      emitAck<{ result: string; reason?: string }>(socket!, 'message', {
        sid: session.id,
        message: { role: 'agent', content: { type: 'output', data: text } },
      });
    expect(await send('before')).toEqual({ result: 'ok' });

    // 1 byte: every write command is over the limit from now on (0 would mean "no limit").
    await admin.config('SET', 'maxmemory', '1');
    try {
      expect(await send('while full')).toEqual({ result: 'error', reason: 'unavailable' });
      const created = await rest.createSession({ tag: 'full', metadata: { path: '/w', host: 'h' }, agentState: {} });
      expect(created.status).toBe(503);
      expect(created.body).toMatchObject({ code: 'engine_unavailable' });
      // A namespace registration (open registration) is a write too.
      const auth = await httpJson(`${t.url}/api/auth`, {
        method: 'POST',
        body: { accessToken: t.tokenFor(uniqueNamespace('new')) },
      });
      expect(auth.status).toBe(503);

      // Reads, liveness and readiness are unaffected: no restart loop for a full Redis.
      expect((await rest.getSession(session.id)).status).toBe(200);
      expect(
        (await fetchAllMessages(rest, session.id)).map(
          (m) => (m.content as { content: { data: string } }).content.data,
        ),
      ).toEqual(['before']);
      expect((await httpJson(`${t.url}/health`)).status).toBe(200);
      expect((await httpJson(`${t.url}/ready`)).status).toBe(200);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }

    expect(await send('after')).toEqual({ result: 'ok' });
    expect(
      (await fetchAllMessages(rest, session.id)).map((m) => (m.content as { content: { data: string } }).content.data),
    ).toEqual(['before', 'after']);
  });
});
