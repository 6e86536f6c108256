// SSE delivery rules (docs/protocol.md#filters): namespace isolation, `all`, `sessionId` and `machineId`
// subscriptions, and `message-received` only to the session's own stream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSse, type SseClient, type SseFrame } from '../helpers/sse-client.js';
import {
  createMachine,
  createSession,
  jwtFor,
  marker,
  messageReceived,
  publish,
  startTestHub,
  type TestHub,
} from '../helpers/sse-fixtures.js';

const NS = 'filter-ns';
const OTHER = 'filter-other';

/** Reads non-heartbeat frames until `done` matches one (a fence event the test publishes last). */
async function drainUntil(sse: SseClient, done: (frame: SseFrame) => boolean): Promise<SseFrame[]> {
  const seen: SseFrame[] = [];
  for (;;) {
    const frame = await sse.next((f) => f.event.type !== 'heartbeat');
    seen.push(frame);
    if (done(frame)) return seen;
  }
}

const isFence = (frame: SseFrame): boolean =>
  frame.event.type === 'messages-invalidated' && frame.event.sessionId === 'fence';

describe('SSE delivery filters', () => {
  let t: TestHub;
  let jwt: string;
  let otherJwt: string;

  beforeAll(async () => {
    t = await startTestHub();
    jwt = await jwtFor(t, NS);
    otherJwt = await jwtFor(t, OTHER);
  });
  afterAll(async () => {
    await t.close();
  });

  it('a sessionId stream sees its session only, and message-received only of its session', async () => {
    const mine = await createSession(t, NS);
    const theirs = await createSession(t, NS);
    const sse = await openSse(t.url, { token: jwt, query: { sessionId: mine } });
    expect((await sse.next()).event.type).toBe('connection-changed');

    await publish(t, NS, marker(theirs, 1));
    await publish(t, NS, messageReceived(theirs, 'not for you'));
    await publish(t, NS, marker(mine, 2));
    await publish(t, NS, messageReceived(mine, 'for you'));
    await publish(t, NS, { type: 'session-ended', sessionId: theirs });
    await publish(t, OTHER, marker(mine, 3)); // same session id, another namespace: never
    await publish(t, NS, { type: 'machine-updated', machineId: 'some-machine', data: null });
    await publish(t, NS, { type: 'session-ended', sessionId: mine, reason: 'completed' });

    const frames = await drainUntil(sse, (f) => f.event.type === 'session-ended');
    expect(frames.map((f) => [f.event.type, f.event.sessionId])).toEqual([
      ['session-updated', mine],
      ['message-received', mine],
      ['session-ended', mine],
    ]);
    expect(frames.every((f) => f.event.namespace === NS)).toBe(true);
    sse.close();
  });

  it("a machineId stream sees that machine's events only", async () => {
    const machine = await createMachine(t, NS);
    const otherMachine = await createMachine(t, NS);
    const sse = await openSse(t.url, { token: jwt, query: { machineId: machine } });
    expect((await sse.next()).event.type).toBe('connection-changed');

    await publish(t, NS, { type: 'machine-updated', machineId: otherMachine, data: { active: true } });
    await publish(t, NS, { type: 'machine-updated', machineId: machine, data: { active: true } });
    await publish(t, NS, messageReceived('any-session', 'message-received never goes to machine streams'));
    await publish(t, NS, marker('any-session', 1));
    await publish(t, OTHER, { type: 'machine-updated', machineId: machine, data: { active: false } });
    // Real service path: re-registering publishes machine-updated for this machine.
    await t.hub.services.machines.createOrLoad(NS, { id: machine, metadata: { host: 'again' }, runnerState: null });

    const frames = await sse.collect(2, (f) => f.event.type !== 'heartbeat');
    expect(frames.map((f) => [f.event.type, f.event.machineId, f.event.namespace])).toEqual([
      ['machine-updated', machine, NS],
      ['machine-updated', machine, NS],
    ]);
    expect(frames[0]?.event.data).toEqual({ active: true });
    expect(frames[1]?.event.data).toMatchObject({ id: machine });
    // Nothing else was queued behind them.
    await publish(t, NS, { type: 'machine-updated', machineId: machine, data: { active: false } });
    expect((await sse.next((f) => f.event.type !== 'heartbeat')).event.data).toEqual({ active: false });
    sse.close();
  });

  it("never delivers another namespace's events, to all-streams either", async () => {
    const ours = await openSse(t.url, { token: jwt, query: { all: 'true' } });
    const theirs = await openSse(t.url, { token: otherJwt, query: { all: 'true' } });
    await ours.next();
    await theirs.next();
    await createSession(t, OTHER);
    await publish(t, OTHER, messageReceived('x', 'secret'));
    await publish(t, OTHER, marker('x', 1));
    await publish(t, NS, marker('fence', 99));
    await publish(t, NS, { type: 'messages-invalidated', sessionId: 'fence' });
    await publish(t, OTHER, { type: 'messages-invalidated', sessionId: 'fence' });

    const ourFrames = await drainUntil(ours, isFence);
    expect(ourFrames.map((f) => f.event.namespace)).toEqual([NS, NS]);
    const theirFrames = await drainUntil(theirs, isFence);
    expect(theirFrames.map((f) => f.event.type)).toEqual([
      'session-added',
      'message-received',
      'session-updated',
      'messages-invalidated',
    ]);
    expect(theirFrames.every((f) => f.event.namespace === OTHER)).toBe(true);
    ours.close();
    theirs.close();
  });

  it('an all-stream gets every event of its namespace, including message-received of any session', async () => {
    const sse = await openSse(t.url, { token: jwt, query: { all: 'true' } });
    await sse.next();
    await publish(t, NS, messageReceived('s-a', 'one'));
    await publish(t, NS, { type: 'machine-updated', machineId: 'm-a', data: null });
    await publish(t, NS, { type: 'messages-invalidated', sessionId: 'fence' });
    const frames = await drainUntil(sse, isFence);
    expect(frames.map((f) => f.event.type)).toEqual(['message-received', 'machine-updated', 'messages-invalidated']);
    sse.close();
  });
});
