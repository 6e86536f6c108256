// Hosts that run one hub process each (HAPI_WORKERS=1, e.g. 1-CPU pods) share one Redis: room
// updates and RPC must still reach sockets on the other host, through the Socket.IO Redis
// adapter, exactly as between the workers of a cluster.
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UpdateEnvelopeSchema, type RpcRequest } from '../../src/protocol/socket-events.js';
import { cliRest, connectCli, nextEvent, pendingEvents, pingBarrier } from '../helpers/cli-client.js';
import { startCluster, type HubHost, type TestCluster } from '../helpers/cluster.js';
import { createMachine, createSession, uniqueNamespace } from '../helpers/fixtures.js';
import { loginWeb, webApi } from '../helpers/web-api.js';

let c: TestCluster;
const sockets: Socket[] = [];

beforeAll(async () => {
  c = await startCluster({ hosts: 2, workersPerHost: 1, env: { HAPI_RPC_TIMEOUT_MS: '4000', LOG_LEVEL: 'info' } });
}, 180_000);

afterAll(async () => {
  await c?.stop();
}, 60_000);

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

function tenant(prefix: string) {
  const ns = uniqueNamespace(prefix);
  return { token: `${c.token}:${ns}` };
}

async function cliOn(host: HubHost, token: string, auth: Record<string, string>): Promise<Socket> {
  const socket = await connectCli(host.url, { token, ...auth });
  sockets.push(socket);
  return socket;
}

describe('hosts with one hub process each', () => {
  it('a session update sent on host A reaches the session socket on host B, and not the sender', async () => {
    const [hostA, hostB] = c.hosts as [HubHost, HubHost];
    const t = tenant('single-rooms');
    const session = await createSession(cliRest(hostA.url, t.token));
    const onA = await cliOn(hostA, t.token, { sessionId: session.id });
    const onB = await cliOn(hostB, t.token, { sessionId: session.id });

    // The handshake's room join finishes before a socket's first event is handled: after a ping,
    // both sockets are in the session room.
    await Promise.all([pingBarrier(onA), pingBarrier(onB)]);
    // No localId: the row is invoked at once, so no queued-prompt replay can reach the sender.
    const content = { role: 'agent', content: { type: 'output', data: 'from host A' } };
    onA.emit('message', { sid: session.id, message: content });
    const update = UpdateEnvelopeSchema.parse(await nextEvent(onB, 'update'));
    expect(update.body).toMatchObject({
      t: 'new-message',
      sid: session.id,
      message: { seq: 1, localId: null, content },
    });
    await pingBarrier(onA);
    await pingBarrier(onB);
    expect(pendingEvents(onA, 'update')).toEqual([]);
    expect(pendingEvents(onB, 'update')).toEqual([]);
  }, 60_000);

  it('an RPC from a REST call on host A reaches the runner socket on host B', async () => {
    const [hostA, hostB] = c.hosts as [HubHost, HubHost];
    const t = tenant('single-rpc');
    const machine = await createMachine(cliRest(hostA.url, t.token));
    const runner = await cliOn(hostB, t.token, { machineId: machine.id, clientType: 'machine-scoped' });
    runner.on('rpc-request', (request: RpcRequest, ack: (response: string) => void) => {
      ack(
        JSON.stringify({ success: true, entries: [{ name: 'on-host-b', type: 'directory' }], method: request.method }),
      );
    });
    runner.emit('rpc-register', { method: `${machine.id}:list-directory` });
    await pingBarrier(runner);

    const web = webApi(hostA.url, await loginWeb(hostA.url, t.token));
    const response = await web.post(`/api/machines/${machine.id}/list-directory`, { path: '/work' });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toEqual({
      success: true,
      entries: [{ name: 'on-host-b', type: 'directory' }],
      method: `${machine.id}:list-directory`,
    });
  }, 60_000);
});
