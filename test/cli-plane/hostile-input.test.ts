// Hostile documents and acks (issue 11, part 3): nesting and size limits on every opaque document,
// refused as JSON 400/413 or an invalid-payload ack without a log line; every event emitted with
// an ack gets exactly one answer; an RPC answer the hub cannot re-serialise is a JSON 502.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { DOCUMENT_MAX_BYTES, JSON_MAX_DEPTH } from '../../src/protocol/json-document.js';
import { EventAckSchema, SocketErrorSchema } from '../../src/protocol/socket-events.js';
import {
  cliRest,
  connectCli,
  emitAck,
  emitAckArgs,
  httpJson,
  nextEvent,
  pendingEvents,
  pingBarrier,
  type CliRest,
} from '../helpers/cli-client.js';
import {
  createMachine,
  createSession,
  fetchAllMessages,
  fetchMachine,
  fetchSession,
  sessionMetadata,
  uniqueNamespace,
} from '../helpers/fixtures.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { captureLogs, type CapturedLogs } from '../helpers/log-capture.js';
import { openRawCli } from '../helpers/raw-socketio.js';
import { loginWeb, webApi, type WebApi } from '../helpers/web-api.js';

/** `depth` nested arrays around a value: [[[…]]] (built iteratively; JSON.stringify would overflow). */
function deepArray(depth: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < depth; i++) value = [value];
  return value;
}
const deepText = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

let t: TestHub;
let logs: CapturedLogs;
let rest: CliRest;
let api: WebApi;
const open: Socket[] = [];

beforeAll(async () => {
  logs = captureLogs('info');
  t = await startTestHub({ log: logs.log, rpcTimeoutMs: 2_000 });
  const ns = uniqueNamespace('hostile');
  rest = cliRest(t.url, t.tokenFor(ns));
  api = webApi(t.url, await loginWeb(t.url, t.tokenFor(ns)));
});
afterAll(async () => {
  for (const socket of open) socket.close();
  await t.close();
});

async function connect(auth: Record<string, unknown> = {}): Promise<Socket> {
  const socket = await connectCli(t.url, { token: rest.token, ...auth });
  open.push(socket);
  return socket;
}

async function malformedCount(event: string): Promise<number> {
  const metric = await t.hub.metrics.registry.getSingleMetric('hapi_cli_events_malformed_total')?.get();
  return metric?.values.find((v) => v.labels.event === event)?.value ?? 0;
}

describe('document limits on /cli REST', () => {
  it('5,000-deep documents answer 400 document_too_deep as JSON, store nothing, log nothing', async () => {
    logs.clear();
    const deep = deepArray(5_000);
    const bodies: [string, string, Record<string, unknown>][] = [
      ['session metadata', '/cli/sessions', { tag: 'deep-1', metadata: deep }],
      ['session agentState', '/cli/sessions', { tag: 'deep-2', metadata: sessionMetadata(), agentState: deep }],
      [
        'session machine metadata',
        '/cli/sessions',
        { tag: 'deep-3', metadata: sessionMetadata(), machine: { id: 'deep-m0', metadata: deep } },
      ],
      ['machine metadata', '/cli/machines', { id: 'deep-m1', metadata: deep }],
      ['machine runnerState', '/cli/machines', { id: 'deep-m2', metadata: {}, runnerState: deep }],
    ];
    for (const [label, path, body] of bodies) {
      // JSON.stringify cannot write it either: build the text around a placeholder.
      const text = JSON.stringify(body, (_key, value: unknown) => (value === deep ? '__DEEP__' : value)).replace(
        '"__DEEP__"',
        deepText(5_000),
      );
      const answer = await httpJson(`${t.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${rest.token}`, 'content-type': 'application/json' },
        rawBody: text,
      });
      expect(answer.status, label).toBe(400);
      expect(answer.body, label).toMatchObject({ error: 'Invalid body', code: 'document_too_deep' });
    }
    const ns = rest.token.slice(rest.token.lastIndexOf(':') + 1);
    expect(await t.engine.sessions.list(ns)).toEqual([]);
    for (const id of ['deep-m0', 'deep-m1', 'deep-m2']) expect((await rest.getMachine(id)).status).toBe(404);
    expect(logs.errors()).toEqual([]);
  });

  it(`exactly ${JSON_MAX_DEPTH} levels are accepted, one more is refused`, async () => {
    const ok = await rest.createMachine({
      id: 'depth-ok',
      metadata: { host: 'h', platform: 'p', happyCliVersion: 'v', nested: deepArray(JSON_MAX_DEPTH - 1) },
    });
    expect(ok.status).toBe(200);
    const refused = await rest.createMachine({
      id: 'depth-over',
      metadata: { host: 'h', platform: 'p', happyCliVersion: 'v', nested: deepArray(JSON_MAX_DEPTH) },
    });
    expect(refused).toMatchObject({ status: 400, body: { code: 'document_too_deep' } });
  });

  it('a document over its byte limit answers 413 document_too_large', async () => {
    const big = { host: 'h', platform: 'p', happyCliVersion: 'v', blob: 'x'.repeat(DOCUMENT_MAX_BYTES.metadata) };
    const res = await rest.createMachine({ id: 'too-big', metadata: big });
    expect(res).toMatchObject({ status: 413, body: { error: 'Document too large', code: 'document_too_large' } });
    expect((await rest.getMachine('too-big')).status).toBe(404);
  });

  it('a 100,000-deep JSON body is a JSON 4xx on every kind of route', async () => {
    logs.clear();
    const text = deepText(100_000);
    const auth = { authorization: `Bearer ${rest.token}`, 'content-type': 'application/json' };
    for (const path of ['/cli/sessions', '/cli/machines']) {
      const res = await httpJson(`${t.url}${path}`, { method: 'POST', headers: auth, rawBody: text });
      expect(res.status, path).toBe(400);
      expect(typeof res.body, path).toBe('object');
    }
    const session = await createSession(rest);
    const web = await api.request('PATCH', `/api/sessions/${session.id}`, {
      rawBody: text,
      headers: { 'content-type': 'application/json' },
    });
    expect(web.status).toBe(400);
    expect(typeof web.body).toBe('object');
    const auth2 = await httpJson(`${t.url}/api/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      rawBody: text,
    });
    expect(auth2.status).toBe(400);
    expect(typeof auth2.body).toBe('object');
    expect(logs.errors()).toEqual([]);
  });
});

describe('document limits on /cli events', () => {
  it('every document-bearing event refuses a 100,000-deep value: invalid-payload, nothing stored, no log line', async () => {
    logs.clear();
    const session = await createSession(rest);
    const machine = await createMachine(rest);
    const deep = deepText(100_000);
    const before = await malformedCount('update-metadata');
    for (const transport of ['websocket', 'polling'] as const) {
      const raw = await openRawCli(t.url, { token: rest.token }, transport);
      const payloads: [string, string][] = [
        ['update-metadata', `{"sid":${JSON.stringify(session.id)},"expectedVersion":1,"metadata":${deep}}`],
        ['update-state', `{"sid":${JSON.stringify(session.id)},"expectedVersion":1,"agentState":${deep}}`],
        [
          'machine-update-metadata',
          `{"machineId":${JSON.stringify(machine.id)},"expectedVersion":1,"metadata":${deep}}`,
        ],
        [
          'machine-update-state',
          `{"machineId":${JSON.stringify(machine.id)},"expectedVersion":1,"runnerState":${deep}}`,
        ],
        ['message', `{"sid":${JSON.stringify(session.id)},"message":${deep}}`],
        ['message', `{"sid":${JSON.stringify(session.id)},"message":${JSON.stringify(deep)}}`],
        ['machine-alive', `{"machineId":${JSON.stringify(machine.id)},"time":${t.clock.now},"health":${deep}}`],
        ['session-alive', deep],
      ];
      for (const [event, payload] of payloads) {
        expect(JSON.parse(await raw.emitText(event, payload)), `${transport} ${event}`).toEqual([
          { result: 'error', reason: 'invalid-payload' },
        ]);
      }
      // Without an ack: the error event.
      await raw.send(`42/cli,["message",{"sid":${JSON.stringify(session.id)},"message":${deep}}]`);
      await raw.ping();
      expect(raw.received.some((frame) => frame.includes('"Invalid message payload"'))).toBe(true);
      await raw.close();
    }
    expect(await malformedCount('update-metadata')).toBe(before + 2);
    expect(await fetchSession(rest, session.id)).toMatchObject({ metadataVersion: 1, agentStateVersion: 1 });
    expect(await fetchMachine(rest, machine.id)).toMatchObject({
      metadataVersion: 1,
      runnerStateVersion: 1,
      active: false,
    });
    expect(await fetchAllMessages(rest, session.id)).toEqual([]);
    expect(logs.errors()).toEqual([]);
  });

  it('a message that is not JSON text is stored as text whatever brackets it holds', async () => {
    const session = await createSession(rest);
    const socket = await connect();
    const text = `${'['.repeat(500)} not json`;
    expect(await emitAck(socket, 'message', { sid: session.id, message: text })).toEqual({ result: 'ok' });
    expect((await fetchAllMessages(rest, session.id)).map((m) => m.content)).toEqual([text]);
  });
});

describe('acks', () => {
  it('events without an upstream ack answer {result:ok} when emitted with one, once', async () => {
    const session = await createSession(rest);
    const machine = await createMachine(rest);
    const socket = await connect({ sessionId: session.id, machineId: machine.id });
    const now = t.clock.now;
    const events: [string, unknown][] = [
      ['message', { sid: session.id, message: { role: 'agent', content: 'hi' } }],
      ['session-alive', { sid: session.id, time: now, thinking: false }],
      ['session-ready', { sid: session.id, time: now }],
      ['messages-consumed', { sid: session.id, localIds: ['nothing'] }],
      ['machine-alive', { machineId: machine.id, time: now }],
      ['rpc-register', { method: `${session.id}:abort` }],
      ['rpc-unregister', { method: `${session.id}:abort` }],
      ['session-end', { sid: session.id, time: now, reason: 'completed' }],
    ];
    for (const [event, payload] of events) {
      const args = await emitAckArgs(socket, event, payload);
      expect(args, event).toEqual([{ result: 'ok' }]);
      EventAckSchema.parse(args[0]);
    }
    // ping keeps upstream's empty ack; versioned writes keep their shape.
    expect(await emitAckArgs(socket, 'ping')).toEqual([]);
    expect(
      await emitAck(socket, 'update-metadata', {
        sid: session.id,
        expectedVersion: 1,
        metadata: sessionMetadata({ x: 1 }),
      }),
    ).toMatchObject({ result: 'success', version: 2 });
  });

  it('a refused event answers {result:error, reason} and still emits the error event', async () => {
    const socket = await connect();
    const now = t.clock.now;
    for (const [event, payload] of [
      ['message', { sid: 'never-existed', message: 'x' }],
      ['session-alive', { sid: 'never-existed', time: now }],
      ['machine-alive', { machineId: 'never-existed', time: now }],
    ] as const) {
      expect(await emitAck(socket, event, payload), event).toEqual({ result: 'error', reason: 'not-found' });
      expect(SocketErrorSchema.parse(await nextEvent(socket, 'error'))).toMatchObject({
        code: 'not-found',
        id: 'never-existed',
      });
    }
  });

  it('unknown events answer {result:error, reason:unknown-event}; without an ack nothing is sent', async () => {
    const socket = await connect();
    for (const name of ['usage-report', 'rpc-call', 'error', 'x'.repeat(1000), 'update']) {
      expect(await emitAck(socket, name, { any: 'thing' }), name).toEqual({ result: 'error', reason: 'unknown-event' });
    }
    // An upstream event with an upstream ack shape that this hub does not implement: that shape.
    expect(await emitAck(socket, 'messages-steer-state', { sid: 'x', localIds: ['a'], state: 'queued' })).toEqual({
      ok: false,
    });
    socket.emit('no-such-event', 1, 2, 3);
    await pingBarrier(socket);
    expect(pendingEvents(socket, 'error')).toEqual([]);
    const metric = await t.hub.metrics.registry.getSingleMetric('hapi_cli_events_unknown_total')?.get();
    expect(metric?.values[0]?.value).toBeGreaterThanOrEqual(7);
  });
});

describe('RPC answers', () => {
  /** A CLI socket that answers every rpc-request with `answer` (raw, as sent on the wire). */
  async function answering(scope: 'session' | 'machine', id: string, name: string, answer: unknown): Promise<Socket> {
    const socket = await connect(scope === 'session' ? { sessionId: id } : { machineId: id });
    socket.on('rpc-request', (_request: unknown, ack: (response: unknown) => void) => ack(answer));
    if (scope === 'session') socket.emit('session-alive', { sid: id, time: t.clock.now, thinking: false });
    else socket.emit('machine-alive', { machineId: id, time: t.clock.now });
    expect(await emitAck(socket, 'rpc-register', { method: `${id}:${name}` })).toEqual({ result: 'ok' });
    return socket;
  }

  it('a 30,000-deep answer reaches the web caller as JSON 502 rpc_bad_answer, with no plain text and at most one log line', async () => {
    logs.clear();
    const session = await createSession(rest);
    await answering('session', session.id, 'readFile', deepText(30_000));
    const file = await api.get(`/api/sessions/${session.id}/file`, { path: '/etc/hostname' });
    expect(file.status).toBe(502);
    expect(file.headers.get('content-type')).toContain('application/json');
    expect(file.body).toMatchObject({ code: 'rpc_bad_answer' });

    const machine = await createMachine(rest);
    await answering('machine', machine.id, 'list-directory', deepText(30_000));
    const listing = await api.post(`/api/machines/${machine.id}/list-directory`, { path: '/' });
    expect(listing).toMatchObject({ status: 502, body: { code: 'rpc_bad_answer' } });

    const runner = await createMachine(rest);
    await answering('machine', runner.id, 'spawn-happy-session', deepText(30_000));
    const spawn = await api.post(`/api/machines/${runner.id}/spawn`, { directory: '/tmp' });
    expect(spawn).toMatchObject({ status: 502, body: { code: 'rpc_bad_answer' } });
    expect(logs.errors()).toEqual([]);
  });

  it('a deep answer that is not JSON text is passed on as the string it is', async () => {
    const session = await createSession(rest);
    const text = `${'{'.repeat(300)} plain`;
    await answering('session', session.id, 'readFile', text);
    const file = await api.get(`/api/sessions/${session.id}/file`, { path: '/x' });
    expect(file.status).toBe(200);
    expect(file.body).toBe(text);
  });
});

describe('refusals store nothing (found by the fuzz suite)', () => {
  it('POST /cli/sessions refused with 409 does not create the machine it names', async () => {
    const existing = await createSession(rest, { tag: 'bound-tag' });
    const res = await rest.createSession({
      id: existing.id,
      tag: 'another-tag',
      metadata: sessionMetadata(),
      machine: { id: 'machine-of-a-refused-request', metadata: {} },
    });
    expect(res).toMatchObject({ status: 409, body: { error: 'Session id is already bound to a different session' } });
    expect((await rest.getMachine('machine-of-a-refused-request')).status).toBe(404);
  });

  it('OPTIONS on a route answers 204 with Allow (not an empty text 200)', async () => {
    const res = await httpJson(`${t.url}/health`, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('allow')).toContain('GET');
    expect(res.body).toBe('');
  });
});
