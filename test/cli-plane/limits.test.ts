// Multi-tenant limits on a real hub (memory engine): every limit of config/limits.ts refuses with
// its reason (socket ack or `error` event, HTTP 429 + Retry-After, connect_error), counts the
// refusal in /metrics, changes nothing it refused, and leaves the other tenant alone. Limits are
// set per namespace through the service the `ns set-limits` command uses.
import type { Socket } from 'socket.io-client';
import { describe, expect, it, vi } from 'vitest';
import type { LimitName } from '../../src/config/limits.js';
import { EventAckSchema, LimitAckSchema, SocketErrorSchema } from '../../src/protocol/socket-events.js';
import { connectCli, connectError, disconnected, emitAck, nextEvent, pingBarrier } from '../helpers/cli-client.js';
import { waitFor } from '../helpers/cluster.js';
import { createMachine, createSession, fetchAllMessages } from '../helpers/fixtures.js';
import { useWebWorld, type WebTenant } from '../helpers/web-world.js';

const world = useWebWorld();

async function tenantWith(limits: Partial<Record<LimitName, number>>): Promise<WebTenant> {
  const tenant = await world.tenant('limited');
  await world.t.hub.services.limits.setOverrides(tenant.ns, limits);
  return tenant;
}

const text = (n: number, size = 16) => ({ role: 'agent', content: { type: 'output', data: `${n}`.padEnd(size, '.') } });

/** Sends `count` messages with acks at once; returns the acks in send order. */
async function flood(socket: Socket, sid: string, count: number, size = 16, prefix = 'm'): Promise<unknown[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      emitAck(socket, 'message', { sid, message: text(i, size), localId: `${prefix}${i}` }),
    ),
  );
}

/** The hub's refusal counters, read from the registry its metrics listener serves. */
async function refusalsIn(ns: string): Promise<Record<string, number>> {
  const text = await world.t.hub.metrics.registry.metrics();
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^hapi_limit_refusals_total\{(.*)\} (\d+)/.exec(line);
    if (!match?.[1]?.includes(`namespace="${ns}"`)) continue;
    const limit = /limit="([^"]+)"/.exec(match[1])?.[1] ?? '';
    const reason = /reason="([^"]+)"/.exec(match[1])?.[1] ?? '';
    counts[`${reason}:${limit}`] = Number(match[2]);
  }
  return counts;
}

describe('message rate and bytes', () => {
  it('a socket over its event rate gets rate-limited acks; what was acked ok is stored exactly once; other tenants are untouched', async () => {
    const alice = await tenantWith({ socketEventsPerSec: 1 }); // burst 10
    const session = await createSession(alice.rest);
    const socket = await alice.connect({ sessionId: session.id });
    const acks = await flood(socket, session.id, 40);
    const okIndexes = acks.flatMap((ack, i) => (EventAckSchema.parse(ack).result === 'ok' ? [i] : []));
    const refused = acks
      .filter((ack) => EventAckSchema.parse(ack).result === 'error')
      .map((a) => LimitAckSchema.parse(a));
    // 10 from the full bucket, at most a couple refilled at 1/s while the test runs.
    expect(okIndexes.length).toBeGreaterThanOrEqual(10);
    expect(okIndexes.length).toBeLessThanOrEqual(13);
    expect(refused).toHaveLength(40 - okIndexes.length);
    for (const ack of refused) {
      expect(ack).toMatchObject({ result: 'error', reason: 'rate-limited', limit: 'socketEventsPerSec' });
      expect(ack.retryAfterMs).toBeGreaterThan(0);
      expect(ack.retryAfterMs).toBeLessThanOrEqual(1000);
    }
    const stored = await fetchAllMessages(alice.rest, session.id);
    expect(stored.map((m) => m.localId).sort()).toEqual(okIndexes.map((i) => `m${i}`).sort());
    expect(await refusalsIn(alice.ns)).toEqual({ 'rate-limited:socketEventsPerSec': refused.length });

    const bob = await world.tenant('bob');
    const bobSession = await createSession(bob.rest);
    const bobSocket = await bob.connect({ sessionId: bobSession.id });
    const bobAcks = await flood(bobSocket, bobSession.id, 40);
    expect(bobAcks.every((ack) => EventAckSchema.parse(ack).result === 'ok')).toBe(true);
  });

  it('an event without an ack is refused with an `error` event naming the limit (never dropped silently)', async () => {
    const alice = await tenantWith({ socketEventsPerSec: 1 });
    const session = await createSession(alice.rest);
    const socket = await alice.connect({ sessionId: session.id });
    for (let i = 0; i < 12; i += 1) socket.emit('message', { sid: session.id, message: text(i) });
    const error = SocketErrorSchema.parse(await nextEvent(socket, 'error'));
    expect(error).toMatchObject({ code: 'rate-limited', limit: 'socketEventsPerSec', event: 'message' });
    expect(error.retryAfterMs).toBeGreaterThan(0);
  });

  it('a socket over its byte rate is refused by size', async () => {
    const alice = await tenantWith({ socketBytesPerSec: 1000 }); // burst 10,000 bytes
    const session = await createSession(alice.rest);
    const socket = await alice.connect({ sessionId: session.id });
    const acks = (await flood(socket, session.id, 5, 4000)).map((ack) => EventAckSchema.parse(ack));
    expect(acks.filter((ack) => ack.result === 'ok')).toHaveLength(2);
    expect(acks.slice(2)).toEqual(
      Array(3).fill({
        result: 'error',
        reason: 'rate-limited',
        limit: 'socketBytesPerSec',
        retryAfterMs: expect.any(Number),
      }),
    );
    // Small events still pass: only the bytes bucket is short.
    expect(EventAckSchema.parse(await emitAck(socket, 'message', { sid: session.id, message: text(9) })).result).toBe(
      'ok',
    );
  });

  it("the namespace's rate is shared by all of its sockets", async () => {
    const alice = await tenantWith({ namespaceEventsPerSec: 1 }); // burst 10 for the namespace
    const session = await createSession(alice.rest);
    const sockets = [await alice.connect(), await alice.connect(), await alice.connect()];
    const acks = (await Promise.all(sockets.map((s, i) => flood(s, session.id, 8, 16, `s${i}-`)))).flat();
    const ok = acks.filter((ack) => EventAckSchema.parse(ack).result === 'ok');
    expect(ok.length).toBeGreaterThanOrEqual(10);
    expect(ok.length).toBeLessThanOrEqual(13);
    expect(acks.filter((ack) => LimitAckSchema.safeParse(ack).data?.limit === 'namespaceEventsPerSec')).toHaveLength(
      acks.length - ok.length,
    );
    expect(await fetchAllMessages(alice.rest, session.id)).toHaveLength(ok.length);
  });

  it('web prompts count against the namespace rate: 429 with Retry-After', async () => {
    const alice = await tenantWith({ namespaceEventsPerSec: 1 });
    const { session } = await alice.liveSession();
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, i) => alice.api.post(`/api/sessions/${session.id}/messages`, { text: `p${i}` })),
    );
    // liveSession's session-alive and ping took two of the ten.
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(16 - 8 - 2);
    for (const answer of limited) {
      expect(answer.body).toMatchObject({
        code: 'rate_limited',
        reason: 'rate-limited',
        limit: 'namespaceEventsPerSec',
      });
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(answers.filter((a) => a.status === 200).length + limited.length).toBe(16);
    const stored = await fetchAllMessages(alice.rest, session.id);
    expect(stored).toHaveLength(16 - limited.length);
  });
});

describe('counts and stored bytes', () => {
  it('connections: the socket over the limit is refused at the handshake; a freed slot is reusable', async () => {
    const alice = await tenantWith({ connections: 2 });
    const first = await alice.connect();
    await alice.connect();
    const refused = await connectError(world.t.url, { token: alice.token });
    expect(refused.message).toBe('Too many connections for this namespace');
    expect(refused.data).toMatchObject({ code: 'quota-exceeded', limit: 'connections' });
    // Another namespace is not affected.
    const bob = await world.tenant('bob');
    await bob.connect();
    first.close();
    await vi.waitFor(
      async () => {
        const again = await connectCli(world.t.url, { token: alice.token });
        again.close();
      },
      { timeout: 5_000, interval: 50 },
    );
  });

  it('sessions and machines: a new one over the quota is 429 and not stored; existing ones still load', async () => {
    const alice = await tenantWith({ sessions: 2, machines: 1 });
    const a = await createSession(alice.rest, { tag: 'a' });
    await createSession(alice.rest, { tag: 'b' });
    const over = await alice.rest.createSession({ tag: 'c', metadata: { path: '/w' } });
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ code: 'quota_exceeded', reason: 'quota-exceeded', limit: 'sessions' });
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const again = await createSession(alice.rest, { tag: 'a' });
    expect(again.id).toBe(a.id);
    expect((await alice.api.get('/api/sessions')).body.sessions).toHaveLength(2);

    const machine = await createMachine(alice.rest, { id: 'm-1' });
    expect((await alice.rest.createMachine({ id: 'm-2', metadata: { host: 'h' } })).status).toBe(429);
    expect((await createMachine(alice.rest, { id: machine.id })).id).toBe(machine.id);
    expect((await alice.rest.getMachine('m-2')).status).toBe(404);
  });

  it('history bytes: writes beyond the quota are refused with quota-exceeded; deleting a session gives its bytes back', async () => {
    const alice = await tenantWith({ historyBytes: 3000 });
    const session = await createSession(alice.rest);
    const socket = await alice.connect({ sessionId: session.id });
    const acks = [];
    for (let i = 0; i < 4; i += 1)
      acks.push(EventAckSchema.parse(await emitAck(socket, 'message', { sid: session.id, message: text(i, 900) })));
    expect(acks.map((a) => a.result)).toEqual(['ok', 'ok', 'ok', 'error']);
    expect(acks[3]).toEqual({ result: 'error', reason: 'quota-exceeded', limit: 'historyBytes', retryAfterMs: 60_000 });
    // A repeated localId stores nothing and costs nothing.
    expect(
      EventAckSchema.parse(await emitAck(socket, 'message', { sid: session.id, message: text(0, 900), localId: 'x' }))
        .result,
    ).toBe('error');
    expect(await fetchAllMessages(alice.rest, session.id)).toHaveLength(3);
    const described = await world.t.hub.services.limits.describe(alice.ns);
    expect(described.usage.historyBytes).toBeGreaterThan(2700);
    expect(described.usage.historyBytes).toBeLessThanOrEqual(3000);
    socket.close();
    await vi.waitFor(async () => expect((await alice.api.del(`/api/sessions/${session.id}`)).status).toBe(200), {
      timeout: 5_000,
      interval: 50,
    });
    // The worker keeps at most 1/16 of the quota reserved for its next messages.
    const after = await world.t.hub.services.limits.describe(alice.ns);
    expect(after.usage.sessions).toBe(0);
    expect(after.usage.historyBytes).toBeLessThanOrEqual(3000 / 16);
    const next = await createSession(alice.rest);
    const again = await alice.connect({ sessionId: next.id });
    for (let i = 0; i < 3; i += 1)
      expect(
        EventAckSchema.parse(await emitAck(again, 'message', { sid: next.id, message: text(i, 900) })).result,
      ).toBe('ok');
  });

  it('concurrent RPCs: a call beyond the namespace slots is 429 while the first is in flight', async () => {
    const alice = await tenantWith({ concurrentRpcs: 1 });
    const live = await alice.liveSession();
    let release: () => void = () => undefined;
    const held = new Promise((resolve) => (release = () => resolve({})));
    let calls = 0;
    await live.rpc.serve('abort', () => (++calls === 1 ? held : {}));
    const first = alice.api.post(`/api/sessions/${live.session.id}/abort`);
    await live.rpc.nextCall('abort');
    const second = await alice.api.post(`/api/sessions/${live.session.id}/abort`);
    expect(second.status).toBe(429);
    expect(second.body).toMatchObject({ reason: 'quota-exceeded', limit: 'concurrentRpcs' });
    expect(second.headers.get('retry-after')).toBe('1');
    release();
    expect((await first).status).toBe(200);
    expect((await alice.api.post(`/api/sessions/${live.session.id}/abort`)).status).toBe(200);
  });

  it('concurrent RPCs: a slot goes back after its call even when no other call follows', async () => {
    const alice = await tenantWith({ concurrentRpcs: 1 });
    const live = await alice.liveSession();
    await live.rpc.serve('abort', () => ({}));
    expect((await alice.api.post(`/api/sessions/${live.session.id}/abort`)).status).toBe(200);
    // Asked of the engine itself: a call through the hub would send the pending release first.
    const { engine, clock } = world.t;
    await waitFor('the RPC slot back in the engine', 5_000, async () => {
      const now = clock.now;
      const probe = await engine.limits.acquireLease(alice.ns, 'rpcs', 'probe', 1, now + 60_000, now);
      if (probe.ok) await engine.limits.releaseLease(alice.ns, 'rpcs', 'probe');
      return probe.ok;
    });
  });

  it('concurrent RPCs on a machine route: a missing machine is 404 before 429, and a 404 or 429 call holds no slot', async () => {
    const alice = await tenantWith({ concurrentRpcs: 1 });
    const { machine, rpc } = await alice.runner();
    const path = `/api/machines/${machine.id}/paths/exists`;
    let release: () => void = () => undefined;
    const held = new Promise((resolve) => (release = () => resolve({ exists: { '/a': true } })));
    let calls = 0;
    await rpc.serve('path-exists', () => (++calls === 1 ? held : { exists: { '/b': true } }));
    const notFound = { status: 404, body: { error: 'Machine not found' } };
    // The machine is read in the same engine round trip as the slot: its slot goes back at once.
    expect(await alice.api.post('/api/machines/nope/paths/exists', { paths: ['/a'] })).toMatchObject(notFound);
    const first = alice.api.post(path, { paths: ['/a'] });
    await rpc.nextCall('path-exists');
    expect(await alice.api.post('/api/machines/nope/paths/exists', { paths: ['/a'] })).toMatchObject(notFound);
    expect(await alice.api.post(path, { paths: ['/b'] })).toMatchObject({
      status: 429,
      body: { reason: 'quota-exceeded', limit: 'concurrentRpcs' },
    });
    release();
    expect(await first).toMatchObject({ status: 200, body: { exists: { '/a': true } } });
    expect(await alice.api.post(path, { paths: ['/b'] })).toMatchObject({
      status: 200,
      body: { exists: { '/b': true } },
    });
    expect(calls).toBe(2);
  });
});

describe('pending events per socket', () => {
  it('a socket that queues more events than allowed is told and disconnected', async () => {
    const alice = await tenantWith({ pendingEvents: 20 });
    const session = await createSession(alice.rest);
    const socket = await alice.connect({ sessionId: session.id });
    await pingBarrier(socket);
    const gone = disconnected(socket);
    for (let i = 0; i < 300; i += 1) socket.emit('session-alive', { sid: session.id, time: Date.now() });
    const error = SocketErrorSchema.parse(await nextEvent(socket, 'error'));
    expect(error).toMatchObject({ code: 'rate-limited', limit: 'pendingEvents' });
    expect(await gone).toBe('io server disconnect');
    expect((await refusalsIn(alice.ns))['rate-limited:pendingEvents']).toBe(1);
  });
});

describe('defaults', () => {
  it('a normal CLI session (hundreds of messages in a burst, keep-alives, RPC) meets no limit', async () => {
    const tenant = await world.tenant('normal');
    const live = await tenant.liveSession();
    const acks = await flood(live.socket, live.session.id, 500, 2000);
    expect(acks.every((ack) => EventAckSchema.parse(ack).result === 'ok')).toBe(true);
    expect(await refusalsIn(tenant.ns)).toEqual({});
  });
});
