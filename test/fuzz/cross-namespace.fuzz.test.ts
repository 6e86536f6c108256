// Cross-namespace probe (docs/protocol.md#namespaces-and-ids: ids are per namespace — an id that exists in another namespace
// is simply a fresh id for this one). For every HTTP route and every /cli event, tenant alice
// sends the same request twice: once naming bob's existing session/machine, once a never-existing
// id. The two answers must be identical (ids masked), no answer may carry anything of bob's, and
// bob's state, RPC handlers and sockets must not notice anything.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMachine, createSession } from '../helpers/fixtures.js';
import { connectCli, emitAckArgsWithin, pendingEvents, pingBarrier, drainEvents } from '../helpers/cli-client.js';
import { eventCase, FRESH, FUZZED_EVENTS, MID, SID, NOW_OFFSET } from './support/event-cases.js';
import { checkAsyncProperty, reportFuzzCounts } from './support/fuzz-run.js';
import { startFuzzWorld, type FuzzWorld } from './support/fuzz-world.js';
import { ROUTES, routeCase, type RouteCase } from './support/route-cases.js';
import { sendCase, type HttpAnswer } from './support/route-fuzzer.js';

const CASES_PER_ROUTE = 12;
const CASES_PER_EVENT = 20;
/** Created last: creating an object under bob's id makes that id alice's own for later probes. */
const CREATING_ROUTES = ['POST /cli/sessions', 'POST /cli/machines'];

let world: FuzzWorld;
/** route/event → the first difference seen between the foreign-id and the fresh-id answer. */
const mismatches = new Map<string, string>();

beforeAll(async () => {
  world = await startFuzzWorld();
});
afterAll(async () => {
  reportFuzzCounts('cross-namespace (memory)');
  await world?.close();
});

interface ProbeIds {
  sid: string;
  mid: string;
}

function bobIds(): ProbeIds {
  return { sid: world.bob.sessionId, mid: world.bob.machineId };
}
function freshIds(): ProbeIds {
  return { sid: randomUUID(), mid: `machine-${randomUUID()}` };
}

/** Masks the probe's ids (and per-request tags) so answers to the two requests can be compared. */
function mask(text: string, ids: ProbeIds, tag: string): string {
  return text.replaceAll(ids.sid, '<SID>').replaceAll(ids.mid, '<MID>').replaceAll(tag, '<TAG>');
}

/**
 * Anything of bob's that must never appear in an answer to alice: his namespace (every wire
 * session/machine carries it) and his content (messages, prompts, local ids all say 'fuzz-bob').
 * His ids are not in the list: an answer may echo the id alice sent herself.
 */
function leaks(text: string): string[] {
  return [world.bob.ns, 'fuzz-bob'].filter((secret) => text.includes(secret));
}

/** Answers that differ between two identical requests anyway (none since /metrics left the public port). */
const NOT_COMPARABLE = new Set<string>();

/** The case with every session/machine reference pointed at `ids` (placeholders resolved). */
function aimed(
  c: RouteCase,
  ids: ProbeIds,
  tag: string,
): { c: RouteCase; resolve: { sid: string; mid: string; fresh: string; token: string } } {
  const spec = ROUTES[c.route];
  const params: Record<string, string> = { ...c.params };
  for (const [name, kind] of Object.entries(spec?.params ?? {})) {
    if (kind === 'session') params[name] = SID;
    if (kind === 'machine') params[name] = MID;
  }
  let body = c.body;
  if (body.kind === 'json' && typeof body.value === 'object' && body.value !== null && !Array.isArray(body.value)) {
    const value: Record<string, unknown> = { ...(body.value as Record<string, unknown>) };
    if ('tag' in value) value.tag = tag;
    // Creating routes always name the probe's id (a random one would differ between the two).
    if (c.route === 'POST /cli/sessions') {
      value.id = SID;
      if (typeof value.machine === 'object' && value.machine !== null)
        value.machine = { ...(value.machine as Record<string, unknown>), id: MID };
    }
    if (c.route === 'POST /cli/machines') value.id = MID;
    body = { kind: 'json', value };
  }
  // FRESH stands for "some other never-existing id": the same in both requests of a pair.
  return {
    c: { ...c, params, body, credentials: 'ok', rawPath: false },
    resolve: { sid: ids.sid, mid: ids.mid, fresh: 'never-existing-0000', token: world.alice.token },
  };
}

function normalised(answer: HttpAnswer, ids: ProbeIds, tag: string): string {
  return `${answer.status} ${mask(answer.text, ids, tag)}`;
}

async function probeRoute(route: string): Promise<void> {
  const { alice, bob } = world;
  await checkAsyncProperty(
    `cross-namespace ${route}`,
    routeCase(route).filter((c) => c.credentials === 'ok'),
    async (c) => {
      await world.restore(alice);
      world.answers.next = c.rpcAnswer;
      // A creating probe makes bob's id alice's own (per namespace it is a fresh id for her), so each
      // creating case aims at a session and machine of bob's that alice never named before.
      const foreign = CREATING_ROUTES.includes(route)
        ? { sid: (await createSession(bob.rest)).id, mid: (await createMachine(bob.rest)).id }
        : bobIds();
      const bobBefore = await world.snapshot(bob.ns);
      const fresh = freshIds();
      const tags = [`tag-${randomUUID()}`, `tag-${randomUUID()}`] as const;
      const a = aimed(c, foreign, tags[0]);
      const b = aimed(c, fresh, tags[1]);
      const foreignAnswer = (await sendCase(world.t.url, a.c, alice, a.resolve)).answer;
      const freshAnswer = (await sendCase(world.t.url, b.c, alice, b.resolve)).answer;
      const leaked = leaks(foreignAnswer.text);
      if (leaked.length > 0)
        throw new Error(
          `${route}: the answer to alice carries bob's ${leaked.join(', ')}: ${foreignAnswer.text.slice(0, 300)}`,
        );
      const x = normalised(foreignAnswer, foreign, tags[0]);
      const y = normalised(freshAnswer, fresh, tags[1]);
      if (x !== y && !NOT_COMPARABLE.has(route) && !mismatches.has(route))
        mismatches.set(route, `bob's id → ${x.slice(0, 200)} | fresh id → ${y.slice(0, 200)}`);
      const bobAfter = await world.snapshot(bob.ns);
      if (!isDeepStrictEqual(bobAfter, bobBefore)) expect(bobAfter, `${route} changed bob's state`).toEqual(bobBefore);
    },
    CASES_PER_ROUTE,
  );
}

async function probeEvent(socket: Socket, event: string): Promise<void> {
  const { alice, bob, t } = world;
  const payloads = eventCase(event).filter(
    (c) => c.hasPayload && typeof c.payload === 'object' && c.payload !== null && !Array.isArray(c.payload),
  );
  await checkAsyncProperty(
    `cross-namespace event ${event}`,
    payloads,
    async (c) => {
      await world.restore(alice);
      const bobBefore = await world.snapshot(bob.ns);
      const answers: string[] = [];
      for (const ids of [bobIds(), freshIds()]) {
        const payload: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(c.payload as Record<string, unknown>)) {
          if (typeof value === 'string')
            payload[key] = value.replace(SID, ids.sid).replace(MID, ids.mid).replace(FRESH, 'never-existing-0000');
          else if (typeof value === 'object' && value !== null && NOW_OFFSET in value)
            payload[key] = t.clock.now + Number((value as Record<string, unknown>)[NOW_OFFSET]);
          else payload[key] = value;
        }
        drainEvents(socket);
        const ack = await emitAckArgsWithin(5_000, socket, event, payload);
        await pingBarrier(socket);
        const errors = pendingEvents(socket, 'error');
        const text = JSON.stringify({ ack, errors });
        const leaked = leaks(text);
        if (leaked.length > 0)
          throw new Error(`${event}: the answer to alice carries bob's ${leaked.join(', ')}: ${text.slice(0, 300)}`);
        answers.push(mask(text, ids, '\u0000no-tag'));
      }
      if (answers[0] !== answers[1] && !mismatches.has(`event ${event}`))
        mismatches.set(
          `event ${event}`,
          `bob's id → ${answers[0]?.slice(0, 200)} | fresh id → ${answers[1]?.slice(0, 200)}`,
        );
      const bobAfter = await world.snapshot(bob.ns);
      if (!isDeepStrictEqual(bobAfter, bobBefore)) expect(bobAfter, `${event} changed bob's state`).toEqual(bobBefore);
    },
    CASES_PER_EVENT,
  );
}

describe('fuzz: cross-namespace probe (memory engine)', () => {
  it("no route or event with bob's ids returns or changes anything of bob's", { timeout: 120_000 }, async () => {
    const { bob } = world;
    const rpcBefore = bob.rpcLog.length;
    const updatesBefore = bob.updates.length;
    const lookups = Object.keys(ROUTES).filter((route) => !CREATING_ROUTES.includes(route));
    for (const route of lookups) await probeRoute(route);
    const socket = await connectCli(world.t.url, { token: world.alice.token });
    try {
      for (const event of FUZZED_EVENTS.filter((name) => name !== 'ping')) await probeEvent(socket, event);
    } finally {
      socket.close();
    }
    for (const route of CREATING_ROUTES) await probeRoute(route);
    expect(bob.rpcLog.slice(rpcBefore), "bob's CLI was reached").toEqual([]);
    expect(bob.updates.slice(updatesBefore), "bob's sockets were told something").toEqual([]);
    // Bob's own things still work: his RPC handler answers his call, his session reads back.
    world.answers.next = JSON.stringify({ success: true, content: 'Ym9i' });
    const own = await sendCase(
      world.t.url,
      {
        route: 'GET /api/sessions/:id/file',
        params: { id: SID },
        rawPath: false,
        query: { path: '/x' },
        body: { kind: 'none' },
        credentials: 'ok',
        rpcAnswer: null,
      },
      bob,
      { sid: bob.sessionId, mid: bob.machineId, fresh: 'x', token: bob.token },
    );
    expect(own.answer.status).toBe(200);
    expect(bob.rpcLog.slice(rpcBefore).map((entry) => entry.method)).toEqual([`${bob.sessionId}:readFile`]);
    expect(await world.healthy()).toBe(true);
  });

  // docs/protocol.md#namespaces-and-ids: another tenant's id is a fresh id (before ids were per
  // namespace the hub answered 403 "access denied" for it and 404 for a fresh one).
  it("bob's ids get exactly the answer a never-existing id gets, on every route and event", () => {
    const report = [...mismatches].map(([what, diff]) => `${what}: ${diff}`);
    expect(report, `answers that tell alice an id exists in another namespace:\n${report.join('\n')}`).toEqual([]);
  });
});
