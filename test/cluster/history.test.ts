// Fork and rewind over a cluster (redis-server + two hub hosts + HAProxy, real processes): the web
// request on one host, the session's CLI on the other. The rewind's history cut happens once, in
// the shared engine, and every host's SSE streams see messages-invalidated; the per-session
// history lock holds across hosts (a second fork on the other host is refused while the first
// runs).
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RpcRequest } from '../../src/protocol/socket-events.js';
import { cliRest, nextEvent, openCli, pingBarrier } from '../helpers/cli-client.js';
import { startCluster, type HubHost, type TestCluster } from '../helpers/cluster.js';
import { createSession, sessionMetadata, uniqueNamespace } from '../helpers/fixtures.js';
import { openSse, type SseClient } from '../helpers/sse-client.js';
import { loginWeb, webApi } from '../helpers/web-api.js';

let c: TestCluster;
const sockets: Socket[] = [];
const streams: SseClient[] = [];

beforeAll(async () => {
  c = await startCluster({
    hosts: 2,
    workersPerHost: 1,
    env: { LOG_LEVEL: 'info', HAPI_RPC_LONG_TIMEOUT_MS: '20000' },
  });
}, 180_000);

afterAll(async () => {
  for (const socket of sockets) socket.close();
  for (const stream of streams) stream.close();
  await c?.stop();
}, 60_000);

describe('fork and rewind across hosts', () => {
  it('rewind from host A cuts the history of a session whose CLI is on host B; both hosts stream it', async () => {
    const [hostA, hostB] = c.hosts as [HubHost, HubHost];
    const ns = uniqueNamespace('history');
    const token = `${c.token}:${ns}`;
    const session = await createSession(cliRest(c.lbUrl, token), {
      metadata: sessionMetadata({
        machineId: 'm-1',
        capabilities: { conversationHistory: { forkCurrent: true, rewindToMessage: true } },
      }),
    });
    const sid = session.id;
    const socket = openCli(hostB.url, { token, clientType: 'session-scoped', sessionId: sid });
    sockets.push(socket);
    await nextEvent(socket, 'connect', undefined, 15_000);
    let releaseFork: (() => void) | undefined;
    const forkHeld = new Promise<void>((resolve) => (releaseFork = resolve));
    const calls: string[] = [];
    socket.on('rpc-request', (request: RpcRequest, ack: (response: string) => void) => {
      const name = request.method.slice(sid.length + 1);
      calls.push(name);
      if (name === 'rewind-conversation') ack(JSON.stringify({ success: true }));
      // The fork's native step waits for the test: meanwhile its history lock is held.
      if (name === 'fork-conversation') void forkHeld.then(() => ack(JSON.stringify({ error: 'fork refused' })));
    });
    for (const method of ['rewind-conversation', 'fork-conversation'])
      socket.emit('rpc-register', { method: `${sid}:${method}` });
    socket.emit('session-alive', { sid, time: Date.now(), thinking: false });
    // Each prompt is consumed (invoked) before its reply, as a CLI does.
    for (const localId of ['l1', 'l2']) {
      socket.emit('message', { sid, localId, message: { role: 'user', content: { type: 'text', text: localId } } });
      await pingBarrier(socket);
      socket.emit('messages-consumed', { sid, localIds: [localId], clearQueuedThinkingGrace: true });
      await pingBarrier(socket);
      socket.emit('message', { sid, message: { role: 'agent', content: { type: 'text', text: `re ${localId}` } } });
      await pingBarrier(socket);
    }
    socket.emit('session-alive', { sid, time: Date.now(), thinking: false });
    await pingBarrier(socket);

    const jwt = await loginWeb(c.lbUrl, token);
    const onA = await openSse(hostA.url, { token: jwt, query: { sessionId: sid }, timeoutMs: 10_000 });
    const onB = await openSse(hostB.url, { token: jwt, query: { sessionId: sid }, timeoutMs: 10_000 });
    streams.push(onA, onB);
    const webA = webApi(hostA.url, jwt);
    const webB = webApi(hostB.url, jwt);

    const rewound = await webA.post(`/api/sessions/${sid}/rewind`, { messageLocalId: 'l2' });
    expect(rewound.status, JSON.stringify(rewound.body)).toBe(200);
    for (const stream of [onA, onB]) {
      const frame = await stream.next((f) => f.event.type === 'messages-invalidated');
      expect(frame.event).toMatchObject({ sessionId: sid, reason: 'rewind', truncateFromLocalId: 'l2' });
    }
    const left = await webB.get(`/api/sessions/${sid}/messages`);
    expect(left.body.messages.map((m: { localId: string | null }) => m.localId)).toEqual(['l1', null]);

    // A fork in flight on host A holds the session's history lock for host B too.
    const first = webA.post(`/api/sessions/${sid}/fork`, {});
    await expect.poll(() => calls.includes('fork-conversation'), { timeout: 15_000 }).toBe(true);
    const second = await webB.post(`/api/sessions/${sid}/fork`, {});
    expect(second).toMatchObject({ status: 409, body: { error: 'Conversation history action already in progress' } });
    releaseFork?.();
    expect(await first).toMatchObject({ status: 409, body: { error: 'Native fork did not return a session id' } });
    expect(calls.filter((name) => name === 'fork-conversation')).toHaveLength(1);
  }, 90_000);
});
