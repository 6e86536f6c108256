// POST /api/visibility: a subscription id handed out in connection-changed can be marked
// visible/hidden by its own namespace only; bad bodies are 400 with issues.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { createMemoryEngine } from '../../src/engine/memory/engine.js';
import { openSse, type SseClient } from '../helpers/sse-client.js';
import { jwtFor, startTestHub, type TestHub } from '../helpers/sse-fixtures.js';

async function postVisibility(
  t: TestHub,
  jwt: string | null,
  body: string,
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (jwt) headers.authorization = `Bearer ${jwt}`;
  const response = await fetch(`${t.url}/api/visibility`, { method: 'POST', headers, body });
  return { status: response.status, body: await response.json() };
}

async function subscriptionIdOf(sse: SseClient): Promise<string> {
  const hello = await sse.next();
  const data = hello.event.data as { subscriptionId?: unknown };
  if (typeof data.subscriptionId !== 'string') throw new Error(`no subscriptionId in ${hello.data}`);
  return data.subscriptionId;
}

describe('POST /api/visibility', () => {
  let t: TestHub;
  let jwt: string;
  let otherJwt: string;

  beforeAll(async () => {
    t = await startTestHub();
    jwt = await jwtFor(t, 'vis-ns');
    otherJwt = await jwtFor(t, 'vis-other');
  });
  afterAll(async () => {
    await t.close();
  });

  it("answers 200 {ok:true} for the caller's own open subscription, both ways", async () => {
    const sse = await openSse(t.url, { token: jwt, query: { all: 'true', visibility: 'visible' } });
    const id = await subscriptionIdOf(sse);
    expect(await postVisibility(t, jwt, JSON.stringify({ subscriptionId: id, visibility: 'hidden' }))).toEqual({
      status: 200,
      body: { ok: true },
    });
    expect(await postVisibility(t, jwt, JSON.stringify({ subscriptionId: id, visibility: 'visible' }))).toEqual({
      status: 200,
      body: { ok: true },
    });
    sse.close();
  });

  it("answers 404 for an unknown id and for another namespace's subscription", async () => {
    expect(
      await postVisibility(t, jwt, JSON.stringify({ subscriptionId: 'no-such-id', visibility: 'visible' })),
    ).toEqual({
      status: 404,
      body: { error: 'Subscription not found' },
    });
    const foreign = await openSse(t.url, { token: otherJwt, query: { all: 'true' } });
    const foreignId = await subscriptionIdOf(foreign);
    expect(await postVisibility(t, jwt, JSON.stringify({ subscriptionId: foreignId, visibility: 'visible' }))).toEqual({
      status: 404,
      body: { error: 'Subscription not found' },
    });
    // Its owner can, which shows the 404 above was about the namespace, not the id.
    expect(
      (await postVisibility(t, otherJwt, JSON.stringify({ subscriptionId: foreignId, visibility: 'visible' }))).status,
    ).toBe(200);
    foreign.close();
  });

  it('forgets a subscription once its stream has closed', async () => {
    const sse = await openSse(t.url, { token: jwt, query: { all: 'true' } });
    const id = await subscriptionIdOf(sse);
    sse.close();
    // The hub learns about the close from the socket; wait (bounded) until it did.
    const deadline = Date.now() + 3_000;
    for (;;) {
      const answer = await postVisibility(t, jwt, JSON.stringify({ subscriptionId: id, visibility: 'hidden' }));
      if (answer.status === 404) {
        expect(answer.body).toEqual({ error: 'Subscription not found' });
        break;
      }
      expect(answer.status).toBe(200);
      if (Date.now() > deadline) throw new Error('subscription still registered 3 s after its stream closed');
    }
  });

  it('answers 400 with issues for invalid bodies', async () => {
    const bodies = [
      '',
      'not json',
      JSON.stringify({}),
      JSON.stringify({ subscriptionId: '', visibility: 'visible' }),
      JSON.stringify({ subscriptionId: 'x', visibility: 'shown' }),
      JSON.stringify({ subscriptionId: 42, visibility: 'hidden' }),
      JSON.stringify([]),
    ];
    for (const body of bodies) {
      const answer = await postVisibility(t, jwt, body);
      expect({ body, status: answer.status }).toEqual({ body, status: 400 });
      expect(answer.body).toMatchObject({ error: 'Invalid body', issues: expect.any(Array) });
    }
  });

  it('requires a JWT in the Authorization header (401)', async () => {
    expect(await postVisibility(t, null, JSON.stringify({ subscriptionId: 'x', visibility: 'visible' }))).toEqual({
      status: 401,
      body: { error: 'Missing authorization token' },
    });
  });
});

describe('POST /api/visibility across workers sharing one engine', () => {
  let engine: Engine;
  let a: TestHub;
  let b: TestHub;

  beforeAll(async () => {
    engine = createMemoryEngine({ eventLogMaxEvents: 256, eventLogMaxBytes: 2 * 1024 * 1024, messageHistoryLimit: 0 });
    a = await startTestHub({ engine });
    b = await startTestHub({ engine, cliApiToken: a.token });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await engine.close();
  });

  it('finds a stream held by another worker, only for its own namespace', async () => {
    const jwt = await jwtFor(a, 'vis-shared');
    const otherJwt = await jwtFor(a, 'vis-shared-other');
    const sse = await openSse(a.url, { token: jwt, query: { all: 'true' } });
    const id = await subscriptionIdOf(sse);
    expect(await postVisibility(b, jwt, JSON.stringify({ subscriptionId: id, visibility: 'visible' }))).toEqual({
      status: 200,
      body: { ok: true },
    });
    expect(
      (await postVisibility(b, otherJwt, JSON.stringify({ subscriptionId: id, visibility: 'visible' }))).status,
    ).toBe(404);
    sse.close();
  });
});
