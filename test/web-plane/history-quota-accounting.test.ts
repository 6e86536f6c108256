// The historyBytes quota follows every way a session's history changes, not only appends: a
// rewind gives back what it cut and counts the CLI's replacement rows, a cancelled prompt gives
// its bytes back, and a fork's copied rows count (a fork over the quota is refused with 429 and
// leaves no child), and a deleted session gives back its messages' size even for rows an older
// hub stored without a count. Each step checks that the namespace's usage equals what its
// sessions store.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSession, fetchAllMessages } from '../helpers/fixtures.js';
import { historySession, turn } from '../helpers/history-session.js';
import { historyUsage } from '../helpers/hub.js';
import { useWebWorld, type WebTenant } from '../helpers/web-world.js';

const world = useWebWorld({ rpcLongTimeoutMs: 500 });

/** What the namespace's sessions store (read back over REST), sized as the quota sizes a message. */
async function storedBytes(tenant: WebTenant): Promise<number> {
  const sessions = (await tenant.api.get('/api/sessions')).body.sessions as { id: string }[];
  let total = 0;
  for (const { id } of sessions)
    for (const message of await fetchAllMessages(tenant.rest, id))
      total += world.t.hub.services.limits.messageBytes(message.content);
  return total;
}

const long = (label: string) => ({ role: 'agent', content: { type: 'text', text: label.padEnd(2_000, '~') } });

describe('history quota accounting', () => {
  it('a rewind gives back the rows it cut and counts the replacement rows', async () => {
    const alice = await world.tenant('rewind-quota');
    const runner = await alice.runner();
    const live = await historySession(alice, runner, { rewindToMessage: true });
    const sid = live.session.id;
    await turn(alice, live, 'l1', 'first');
    await turn(alice, live, 'l2', 'second');
    const full = await historyUsage(world.t, alice.ns);
    expect(full).toBeGreaterThan(0);
    expect(full).toBe(await storedBytes(alice));

    // Cut at l2 with one large replacement row: the history grows.
    await live.rpc.serve('rewind-conversation', () => ({ success: true, messages: [{ content: long('summary') }] }));
    expect((await alice.api.post(`/api/sessions/${sid}/rewind`, { messageLocalId: 'l2' })).status).toBe(200);
    const grown = await historyUsage(world.t, alice.ns);
    expect(grown).toBeGreaterThan(full);
    expect(grown).toBe(await storedBytes(alice));

    // Cut at l1 with nothing in its place: only the session's other rows are gone.
    await live.rpc.serve('rewind-conversation', () => ({ success: true }));
    expect((await alice.api.post(`/api/sessions/${sid}/rewind`, { messageLocalId: 'l1' })).status).toBe(200);
    expect(await storedBytes(alice)).toBe(0);
    expect(await historyUsage(world.t, alice.ns)).toBe(0);
  });

  it('a cancelled queued prompt gives its bytes back', async () => {
    const alice = await world.tenant('cancel-quota');
    const { session } = await alice.liveSession();
    const path = `/api/sessions/${session.id}/messages`;
    expect((await alice.api.post(path, { text: 'kept', localId: 'k1' })).status).toBe(200);
    expect((await alice.api.post(path, { text: 'x'.repeat(3_000), localId: 'c1' })).status).toBe(200);
    const before = await historyUsage(world.t, alice.ns);
    expect((await alice.api.del(`${path}/c1`)).body).toEqual({ status: 'cancelled', localId: 'c1' });
    const after = await historyUsage(world.t, alice.ns);
    expect(before - after).toBeGreaterThan(3_000);
    expect(after).toBe(await storedBytes(alice));
  });

  it("deleting a session gives back its messages' size, also for rows stored without a count (an upgraded hub's)", async () => {
    const alice = await world.tenant('legacy-quota');
    const session = await createSession(alice.rest);
    // A row as a hub before counted bytes were kept stored it: counted in the namespace's usage at
    // its content size, with no count of its own on the row.
    const content = { role: 'agent', content: { type: 'output', data: 'legacy '.padEnd(1_500, '.') } };
    const appended = await world.t.engine.messages.append(alice.ns, session.id, {
      id: randomUUID(),
      content,
      createdAt: Date.now(),
      invokedAt: Date.now(),
    });
    expect(appended).toMatchObject({ ok: true, inserted: true });
    const size = world.t.hub.services.limits.messageBytes(content);
    await world.t.engine.limits.addUsage(alice.ns, 'historyBytes', size, Number.MAX_SAFE_INTEGER);
    expect(await historyUsage(world.t, alice.ns)).toBe(size);

    expect((await alice.api.del(`/api/sessions/${session.id}`)).status).toBe(200);
    expect(await historyUsage(world.t, alice.ns)).toBe(0);
  });

  it("a fork's copied rows count; a fork over the quota is 429 and leaves neither a child nor usage", async () => {
    const alice = await world.tenant('fork-quota');
    const runner = await alice.runner();
    const live = await historySession(alice, runner, { forkCurrent: true }, { flavor: 'codex' });
    const sid = live.session.id;
    await turn(alice, live, 'l1', 'first '.padEnd(1_000, '.'));
    await turn(alice, live, 'l2', 'second');
    await live.rpc.serve('fork-conversation', () => ({ nativeSessionId: 'native-fork' }));
    await runner.rpc.serve('spawn-happy-session', (params) => ({
      type: 'success',
      sessionId: (params as { existingSessionId: string }).existingSessionId,
    }));
    const source = await historyUsage(world.t, alice.ns);

    const forked = await alice.api.post(`/api/sessions/${sid}/fork`, {});
    expect(forked.status, JSON.stringify(forked.body)).toBe(200);
    const withChild = await historyUsage(world.t, alice.ns);
    expect(withChild).toBe(2 * source);
    expect(withChild).toBe(await storedBytes(alice));

    // Room for less than one more copy: the second fork is refused part-way and cleaned up.
    await world.t.hub.services.limits.setOverrides(alice.ns, { historyBytes: withChild + source / 2 });
    const refused = await alice.api.post(`/api/sessions/${sid}/fork`, {});
    expect(refused.status, JSON.stringify(refused.body)).toBe(429);
    expect(refused.body).toMatchObject({ code: 'quota_exceeded', limit: 'historyBytes' });
    expect(refused.headers.get('retry-after')).toBe('60');
    expect((await alice.api.get('/api/sessions')).body.sessions).toHaveLength(2);
    expect(await historyUsage(world.t, alice.ns)).toBe(withChild);
  });
});
