// Fork and rewind with real Socket.IO stand-ins for the CLI and its runner, against the payloads
// upstream 0.30.7's hub exchanges (fork-conversation → spawn-happy-session / stop-session;
// rewind-conversation → the hub's own history cut + messages-invalidated). The real CLI's fork:
// test/interop/fork.test.ts.
import { describe, expect, it } from 'vitest';
import { emitAck, pingBarrier } from '../helpers/cli-client.js';
import { sessionMetadata } from '../helpers/fixtures.js';
import { historySession, turn } from '../helpers/history-session.js';
import { openSse } from '../helpers/sse-client.js';
import { NO_ANSWER, useWebWorld, type WebTenant } from '../helpers/web-world.js';

// Fork/rewind RPCs use the long timeout: short here, so an unanswered call ends the test quickly.
const world = useWebWorld({ rpcLongTimeoutMs: 500 });

async function messages(tenant: WebTenant, sid: string) {
  const res = await tenant.api.get(`/api/sessions/${sid}/messages`);
  expect(res.status).toBe(200);
  return res.body.messages as { localId: string | null; content: unknown }[];
}

describe('POST /api/sessions/:id/fork', () => {
  it('forks natively, creates the child with the transcript, and spawns it through the runner', async () => {
    const { alice } = world;
    const runner = await alice.runner();
    const live = await historySession(alice, runner, { forkCurrent: true }, { flavor: 'codex' });
    const sid = live.session.id;
    await turn(alice, live, 'l1', 'first');
    await turn(alice, live, 'l2', 'second');
    await live.rpc.serve('fork-conversation', () => ({ nativeSessionId: 'native-fork-1' }));
    await runner.rpc.serve('spawn-happy-session', (params) => ({
      type: 'success',
      sessionId: (params as { existingSessionId: string }).existingSessionId,
    }));

    const res = await alice.api.post(`/api/sessions/${sid}/fork`, {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const childId = res.body.sessionId as string;
    expect(childId).not.toBe(sid);
    expect(live.rpc.calls.filter((c) => c.name === 'fork-conversation')).toEqual([
      { name: 'fork-conversation', params: {} },
    ]);
    const spawn = runner.rpc.calls.find((c) => c.name === 'spawn-happy-session');
    expect(spawn?.params).toEqual({
      type: 'spawn-in-directory',
      directory: '/work/project',
      agent: 'codex',
      model: 'sonnet',
      sessionType: 'simple',
      resumeSessionId: 'native-fork-1',
      existingSessionId: childId,
      sessionId: childId,
      forkSession: false,
    });
    const child = (await alice.api.get(`/api/sessions/${childId}`)).body.session;
    expect(child.metadata).toMatchObject({
      path: '/work/project',
      host: 'test-host',
      machineId: runner.machine.id,
      flavor: 'codex',
      forkedFrom: sid,
      startedBy: 'runner',
      codexSessionId: 'native-fork-1',
      summary: { text: 'Fork: Refactor' },
      capabilities: { conversationHistory: { forkCurrent: true } },
      conversationHistoryPoints: { l1: true, l2: true },
    });
    expect(child.model).toBe('sonnet');
    const copied = await messages(alice, childId);
    expect(copied.map((m) => m.localId)).toEqual(['l1', null, 'l2', null]);
    expect(copied.map((m) => m.content)).toEqual((await messages(alice, sid)).map((m) => m.content));
  });

  it('a Claude --fork-session child answers only once it bound a native id of its own', async () => {
    const { alice } = world;
    const runner = await alice.runner();
    const live = await historySession(alice, runner, { forkCurrent: true }, { claudeSessionId: 'source-native' });
    await turn(alice, live, 'l1', 'first');
    await live.rpc.serve('fork-conversation', () => ({ nativeSessionId: 'source-native', forkSession: true }));
    let childMetadataVersion = 0;
    await runner.rpc.serve('spawn-happy-session', async (params) => {
      const childId = (params as { existingSessionId: string }).existingSessionId;
      // The runner starts the child CLI, which attaches and later binds its forked Claude id.
      const child = await alice.attach(childId);
      childMetadataVersion = child.session.metadataVersion;
      setTimeout(() => {
        void emitAck(child.socket, 'update-metadata', {
          sid: childId,
          expectedVersion: childMetadataVersion,
          metadata: { ...child.session.metadata, claudeSessionId: 'forked-native' },
        });
      }, 50);
      return { type: 'success', sessionId: childId };
    });
    const res = await alice.api.post(`/api/sessions/${live.session.id}/fork`, {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const spawn = runner.rpc.calls.find((c) => c.name === 'spawn-happy-session');
    expect(spawn?.params).toMatchObject({ agent: 'claude', resumeSessionId: 'source-native', forkSession: true });
    const child = (await alice.api.get(`/api/sessions/${res.body.sessionId}`)).body.session;
    expect(child.metadata.claudeSessionId).toBe('forked-native');
  });

  it('a shared runtime names the child it registered itself: accepted once it is bound to the same runtime', async () => {
    const { alice } = world;
    const runner = await alice.runner();
    const runtime = { flavor: 'codex', hostPid: 777, capabilities: { concurrentClients: true } };
    const live = await alice.liveSession({
      metadata: sessionMetadata({
        ...runtime,
        machineId: runner.machine.id,
        codexSessionId: 'thread-src',
        capabilities: { concurrentClients: true, conversationHistory: { forkCurrent: true } },
      }),
    });
    await turn(alice, live, 'l1', 'first');
    const child = await alice.session({
      metadata: sessionMetadata({
        ...runtime,
        machineId: runner.machine.id,
        codexSessionId: 'thread-fork',
        forkedFrom: live.session.id,
      }),
    });
    await live.rpc.serve('fork-conversation', () => ({ nativeSessionId: 'thread-fork', sessionId: child.id }));
    const res = await alice.api.post(`/api/sessions/${live.session.id}/fork`, {});
    expect(res).toMatchObject({ status: 200, body: { sessionId: child.id } });
    // No runner spawn: the runtime already runs the child.
    expect(runner.rpc.calls).toEqual([]);
    live.rpc.handle('fork-conversation', () => ({ nativeSessionId: 'other-thread', sessionId: child.id }));
    expect((await alice.api.post(`/api/sessions/${live.session.id}/fork`, {})).body).toEqual({
      error: 'Invalid shared-runtime fork binding',
    });
  });

  it('a failed spawn stops and deletes the child and answers 409 with the runner error', async () => {
    const { alice } = world;
    const runner = await alice.runner();
    const live = await historySession(alice, runner, { forkCurrent: true }, { flavor: 'codex' });
    await turn(alice, live, 'l1', 'first');
    await live.rpc.serve('fork-conversation', () => ({ nativeSessionId: 'native-x' }));
    await runner.rpc.serve('spawn-happy-session', () => ({ type: 'error', errorMessage: 'no such agent' }));
    await runner.rpc.serve('stop-session', () => ({ status: 'already_gone' }));
    const sse = await openSse(world.t.url, { token: alice.jwt, query: { all: 'true' } });
    const res = await alice.api.post(`/api/sessions/${live.session.id}/fork`, {});
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: 'no such agent' });
    const stop = await runner.rpc.nextCall('stop-session');
    const childId = (stop.params as { sessionId: string }).sessionId;
    expect((await alice.api.get(`/api/sessions/${childId}`)).status).toBe(404);
    const removed = await sse.next((f) => f.event.type === 'session-removed');
    expect(removed.event).toMatchObject({ sessionId: childId });
    sse.close();
  });

  it("refuses with upstream's 409s (capability, boundary, busy, queued, one history action at a time)", async () => {
    const { alice } = world;
    const runner = await alice.runner();
    const none = await historySession(alice, runner, {});
    const forkOf = (sid: string, body: unknown = {}) => alice.api.post(`/api/sessions/${sid}/fork`, body);
    expect((await forkOf(none.session.id)).body).toEqual({ error: 'Fork current is not supported for this session' });
    expect((await forkOf(none.session.id, { messageLocalId: 'l1' })).body).toEqual({
      error: 'Historical fork is not supported for this session',
    });

    const live = await historySession(alice, runner, { forkCurrent: true, forkAtMessage: true });
    const sid = live.session.id;
    expect((await forkOf(sid, { messageLocalId: 'l9' })).body).toEqual({
      error: 'History boundary message not found or not yet invoked',
    });
    live.socket.emit('session-alive', { sid, time: world.t.clock.now, thinking: true });
    await pingBarrier(live.socket);
    expect((await forkOf(sid)).body).toEqual({ error: 'Session is busy' });
    live.socket.emit('session-alive', { sid, time: world.t.clock.now, thinking: false });
    await pingBarrier(live.socket);
    await alice.api.post(`/api/sessions/${sid}/messages`, { text: 'queued', localId: 'q1' });
    // The send's queued-thinking grace (15 s) reads as busy; once it lapsed, the queue refuses.
    expect((await forkOf(sid)).body).toEqual({ error: 'Session is busy' });
    world.t.clock.advance(16_000);
    live.socket.emit('session-alive', { sid, time: world.t.clock.now, thinking: false });
    await pingBarrier(live.socket);
    expect((await forkOf(sid)).body).toEqual({ error: 'Session has queued messages' });
    live.socket.emit('messages-consumed', { sid, localIds: ['q1'], clearQueuedThinkingGrace: true });
    await pingBarrier(live.socket);

    // A fork whose native step hangs holds the session's history lock (cluster-wide).
    await live.rpc.serve('fork-conversation', () => NO_ANSWER);
    const first = forkOf(sid);
    await live.rpc.nextCall('fork-conversation');
    const second = await forkOf(sid);
    expect(second.status).toBe(409);
    expect(second.body).toEqual({ error: 'Conversation history action already in progress' });
    // The hanging RPC times out (500 ms in this world): a 409 with the transport's message.
    expect((await first).status).toBe(409);
    expect((await alice.api.post(`/api/sessions/${sid}/fork`, { messageLocalId: '' })).status).toBe(400);
  });
});

describe('POST /api/sessions/:id/rewind', () => {
  it("cuts the hub's history at the boundary and publishes messages-invalidated {reason:'rewind'}", async () => {
    const { alice } = world;
    const runner = await alice.runner();
    const live = await historySession(alice, runner, { rewindToMessage: true });
    const sid = live.session.id;
    await turn(alice, live, 'l1', 'first');
    await turn(alice, live, 'l2', 'second');
    const epochBefore = (await alice.api.get(`/api/sessions/${sid}/messages`)).body.page.epoch as number;
    await live.rpc.serve('rewind-conversation', () => ({ success: true }));
    const sse = await openSse(world.t.url, { token: alice.jwt, query: { sessionId: sid } });

    const res = await alice.api.post(`/api/sessions/${sid}/rewind`, { messageLocalId: 'l2' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ success: true });
    expect(live.rpc.calls.filter((c) => c.name === 'rewind-conversation').map((c) => c.params)).toEqual([
      { messageLocalId: 'l2' },
    ]);
    const invalidated = await sse.next((f) => f.event.type === 'messages-invalidated');
    expect(invalidated.event).toMatchObject({ sessionId: sid, reason: 'rewind', truncateFromLocalId: 'l2' });
    sse.close();
    const left = await alice.api.get(`/api/sessions/${sid}/messages`);
    expect(left.body.messages.map((m: { localId: string | null }) => m.localId)).toEqual(['l1', null]);
    expect(left.body.page.epoch).toBe(epochBefore + 1);
    // The history locator of the removed prompt is dropped from the metadata.
    expect((await alice.api.get(`/api/sessions/${sid}`)).body.session.metadata.conversationHistoryPoints).toEqual({
      l1: true,
    });
  });

  it("takes the CLI's cut point and replacement rows", async () => {
    const { alice } = world;
    const runner = await alice.runner();
    const live = await historySession(alice, runner, { rewindToMessage: true });
    const sid = live.session.id;
    await turn(alice, live, 'l1', 'first');
    await turn(alice, live, 'l2', 'second');
    await live.rpc.serve('rewind-conversation', () => ({
      success: true,
      truncateFromLocalId: 'l1',
      messages: [{ content: { role: 'agent', content: { type: 'text', text: 'kept summary' } }, createdAt: 5 }],
    }));
    expect((await alice.api.post(`/api/sessions/${sid}/rewind`, { messageLocalId: 'l2' })).status).toBe(200);
    const left = await messages(alice, sid);
    expect(left.map((m) => m.content)).toEqual([{ role: 'agent', content: { type: 'text', text: 'kept summary' } }]);
  });

  it('a CLI refusal is 409; an unknown outcome is 500 hydrateFailed and marks the history diverged', async () => {
    const { alice } = world;
    const runner = await alice.runner();
    const live = await historySession(alice, runner, { rewindToMessage: true });
    const sid = live.session.id;
    await turn(alice, live, 'l1', 'first');
    const rewind = () => alice.api.post(`/api/sessions/${sid}/rewind`, { messageLocalId: 'l1' });
    await live.rpc.serve('rewind-conversation', () => ({ success: false, error: 'agent refused', code: 'refused' }));
    expect(await rewind()).toMatchObject({
      status: 409,
      body: { error: 'agent refused', code: 'refused', hydrateFailed: false },
    });
    expect((await messages(alice, sid)).length).toBe(2);

    live.rpc.handle('rewind-conversation', () => NO_ANSWER);
    const unknown = await rewind();
    expect(unknown.status).toBe(500);
    expect(unknown.body).toEqual({
      error: 'Rewind outcome is unknown; session history requires reconciliation',
      hydrateFailed: true,
    });
    expect((await alice.api.get(`/api/sessions/${sid}`)).body.session.metadata.conversationHistoryDiverged).toBe(true);
    expect((await rewind()).body).toEqual({
      error: 'Conversation history is diverged; refuse further fork/rewind',
      hydrateFailed: false,
    });
    expect((await messages(alice, sid)).length).toBe(2);
    expect((await alice.api.post(`/api/sessions/${sid}/rewind`, {})).status).toBe(400);
  });

  it('the Claude CLI has no rewind: 409 before any RPC', async () => {
    const { alice } = world;
    const runner = await alice.runner();
    const live = await historySession(alice, runner, { forkCurrent: true });
    await turn(alice, live, 'l1', 'first');
    const res = await alice.api.post(`/api/sessions/${live.session.id}/rewind`, { messageLocalId: 'l1' });
    expect(res).toMatchObject({ status: 409, body: { error: 'Rewind is not supported for this session' } });
    expect(live.rpc.calls).toEqual([]);
  });
});
