// Cluster e2e (docs/design.md#cluster, issue #4): redis-server (AOF) + two hub hosts (each a cluster primary with
// two workers) + HAProxy with deploy/haproxy.cfg, all real processes on loopback. One cluster is
// shared by the whole file; tests run in order and each leaves every host running. The
// destructive ones (kill -9, rolling restart, Redis restart) come last.
//
// Placement is forced by connecting straight to a host's port (inside a host, the primary's
// least-connection alternates workers for sequential connections), or by taking a host out of
// HAProxy's rotation through its runtime API while clients connect through the load balancer.
import { Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UpdateEnvelopeSchema, type RpcRequest } from '../../src/protocol/socket-events.js';
import {
  allEvents,
  cliRest,
  openCli,
  emitAck,
  emitAckArgsWithin,
  isNewMessage,
  isUpdateSession,
  nextEvent,
  pendingEvents,
  pingBarrier,
  type CliAuth,
  type CliRest,
  type ConnectOptions,
} from '../helpers/cli-client.js';
import { startCluster, waitFor, httpStatus, type HubHost, type TestCluster } from '../helpers/cluster.js';
import {
  createMachine,
  createSession,
  fetchAllMessages,
  fetchSession,
  sessionMetadata,
  uniqueNamespace,
} from '../helpers/fixtures.js';
import { openSse, splitEventId, type SseClient, type SseFrame } from '../helpers/sse-client.js';
import { loginWeb, webApi } from '../helpers/web-api.js';

const DRAIN_TIMEOUT_MS = 6_000;
const SESSION_TTL_MS = 4_000;
const HUB_ENV = {
  HAPI_SESSION_TTL_MS: String(SESSION_TTL_MS),
  HAPI_MACHINE_TTL_MS: '6000',
  HAPI_SWEEP_INTERVAL_MS: '500',
  HAPI_DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS),
  HAPI_RPC_TIMEOUT_MS: '4000',
  LOG_LEVEL: 'info',
  // The acked writers send message + ping back to back, hundreds a second: by the tenant limits'
  // measure a flood, which they would (rightly) refuse. This suite is about restarts and failover;
  // the limits have their own (test/cli-plane/limits.test.ts, test/cluster/noisy-neighbour.test.ts).
  HAPI_LIMIT_SOCKET_EVENTS_PER_SEC: '100000',
  HAPI_LIMIT_NAMESPACE_EVENTS_PER_SEC: '100000',
};
/** socket.io-client reconnection as the real CLI has it, with shorter delays. */
const RECONNECTING: ConnectOptions = {
  reconnection: true,
  extra: { reconnectionDelay: 100, reconnectionDelayMax: 500, randomizationFactor: 0 },
};

let c: TestCluster;
const openSockets: Socket[] = [];
const openStreams: { close(): void }[] = [];
const timers: NodeJS.Timeout[] = [];

beforeAll(async () => {
  const startedAt = Date.now();
  c = await startCluster({ hosts: 2, workersPerHost: 2, env: HUB_ENV });
  console.log(`[cluster] 2 hosts × 2 workers + redis + haproxy up in ${Date.now() - startedAt} ms`);
}, 180_000);

afterAll(async () => {
  await c?.stop();
}, 60_000);

afterEach((context) => {
  if (context.task.result?.state === 'fail') {
    // The hosts' own logs explain most failures; show their tails with the test's error.
    for (const host of c.hosts)
      console.log(`--- ${host.name} (port ${host.port}) ---\n${host.output().split('\n').slice(-40).join('\n')}`);
    console.log(`--- haproxy ---\n${c.lbOutput().split('\n').slice(-60).join('\n')}`);
  }
  for (const timer of timers.splice(0)) clearInterval(timer);
  for (const socket of openSockets.splice(0)) socket.close();
  for (const stream of openStreams.splice(0)) stream.close();
});

// Helpers ---------------------------------------------------------------------------------------

interface Tenant {
  ns: string;
  token: string;
  rest(baseUrl?: string): CliRest;
}

function tenant(prefix: string): Tenant {
  const ns = uniqueNamespace(prefix);
  const token = `${c.token}:${ns}`;
  return { ns, token, rest: (baseUrl = c.lbUrl) => cliRest(baseUrl, token) };
}

async function cli(
  baseUrl: string,
  t: Tenant,
  auth: Omit<CliAuth, 'token'> = {},
  opts: ConnectOptions = {},
): Promise<Socket> {
  const socket = openCli(baseUrl, { token: t.token, ...auth }, opts);
  openSockets.push(socket);
  let engineOpenedAfter: number | null = null;
  const startedAt = Date.now();
  socket.io.once('open', () => (engineOpenedAfter = Date.now() - startedAt));
  // The 2-core machine also runs the other suites: allow a slow handshake.
  const outcome = await Promise.race([
    nextEvent(socket, 'connect', undefined, 15_000).then(() => 'connected'),
    nextEvent<Error>(socket, 'connect_error', undefined, 15_000).then((error) => `connect_error: ${error.message}`),
  ]).catch(() => 'timeout');
  if (outcome !== 'connected') {
    const engine = socket.io.engine;
    throw new Error(
      `CLI connect to ${baseUrl} failed (${outcome}); engine opened after ${String(engineOpenedAfter)} ms, ` +
        `engine id ${String(engine?.id)}, transport ${String(engine?.transport?.name)}, state ${String(engine?.readyState)}`,
    );
  }
  return socket;
}

async function sse(baseUrl: string, jwt: string, cursor?: string): Promise<SseClient> {
  const stream = await openSse(baseUrl, {
    token: jwt,
    query: { all: 'true' },
    ...(cursor ? { headers: { 'last-event-id': cursor } } : {}),
    timeoutMs: 10_000,
  });
  openStreams.push(stream);
  expect(stream.status, JSON.stringify(stream.body)).toBe(200);
  return stream;
}

/** The connection-changed frame's resume verdict (undefined on a fresh stream). */
async function hello(stream: SseClient): Promise<unknown> {
  const first = await stream.next();
  expect(first.event.type).toBe('connection-changed');
  return (first.event.data as { resume?: unknown } | undefined)?.resume;
}

/** Frames that are entries of the namespace event log (not per-connection frames). */
const isLogFrame = (frame: SseFrame): boolean =>
  frame.id !== undefined && frame.event.type !== 'heartbeat' && frame.event.type !== 'connection-changed';

const agentOutput = (text: string) => ({ role: 'agent', content: { type: 'output', data: text } });

function sendMessage(socket: Socket, sid: string, localId: string): void {
  socket.emit('message', { sid, localId, message: agentOutput(localId) });
}

const isMessageReceived =
  (sid: string, localId: string) =>
  (frame: SseFrame): boolean =>
    frame.event.type === 'message-received' &&
    frame.event.sessionId === sid &&
    (frame.event.message as { localId?: unknown } | undefined)?.localId === localId;

const isInactive =
  (sid: string) =>
  (frame: SseFrame): boolean =>
    frame.event.type === 'session-updated' &&
    frame.event.sessionId === sid &&
    (frame.event.data as { active?: unknown } | undefined)?.active === false;

/** Keeps a CLI beating like the real one (volatile: dropped while disconnected). */
function keepAlive(socket: Socket, sid: string, everyMs = 400): void {
  const beat = () => socket.volatile.emit('session-alive', { sid, time: Date.now(), thinking: false });
  beat();
  timers.push(setInterval(beat, everyMs));
}

/** Answers `list-directory` like a runner. */
function serveListDirectory(socket: Socket, marker: string): void {
  socket.on('rpc-request', (request: RpcRequest, ack: (response: string) => void) => {
    ack(JSON.stringify({ success: true, entries: [{ name: marker, type: 'directory' }], method: request.method }));
  });
}

async function registerRpc(socket: Socket, method: string): Promise<void> {
  socket.emit('rpc-register', { method });
  await pingBarrier(socket);
}

/** Per-worker /cli socket counts of one host, from its aggregated GET /metrics. */
async function cliSocketsPerWorker(host: HubHost): Promise<Record<string, number>> {
  const response = await fetch(host.metricsUrl, { signal: AbortSignal.timeout(10_000) });
  expect(response.status).toBe(200);
  const text = await response.text();
  const perWorker: Record<string, number> = {};
  for (const match of text.matchAll(/^hapi_worker_cli_sockets\{worker="([^"]+)"\} (\d+)$/gm))
    perWorker[match[1]!] = Number(match[2]);
  return perWorker;
}

const sum = (values: Record<string, number>): number => Object.values(values).reduce((a, b) => a + b, 0);

/** Sends messages one after another, each confirmed by a ping ack (the CLI plane handles a
 * socket's events in order, so the ack proves the message was stored); survives reconnects. */
class AckedWriter {
  readonly acked: string[] = [];
  private stopped = false;
  private readonly done: Promise<void>;
  private sent = 0;

  constructor(
    private readonly socket: Socket,
    private readonly sid: string,
    private readonly prefix: string,
  ) {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.socket.connected) {
        await waitFor(`${this.prefix} writer to reconnect`, 30_000, () => this.socket.connected || this.stopped);
        continue;
      }
      const localId = `${this.prefix}-${this.sent++}`;
      sendMessage(this.socket, this.sid, localId);
      try {
        await emitAckArgsWithin(2_000, this.socket, 'ping');
        this.acked.push(localId);
      } catch {
        // Connection lost before the ack: not acknowledged, so nothing is promised about it.
      }
    }
  }

  /** Resolves once `n` more messages than now have been acknowledged. */
  async more(n: number, timeoutMs = 30_000): Promise<void> {
    const target = this.acked.length + n;
    await waitFor(`${n} more acked messages from ${this.prefix}`, timeoutMs, () => this.acked.length >= target);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

/** An SSE client that, like EventSource, reconnects (through the load balancer) with its cursor
 * whenever the stream ends, and records every connection's resume verdict. */
class ResumingSse {
  readonly frames: SseFrame[] = [];
  readonly verdicts: unknown[] = [];
  private current: SseClient | null = null;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly baseUrl: string,
    private readonly jwt: string,
  ) {
    this.done = this.run();
  }

  get connections(): number {
    return this.verdicts.length;
  }

  private async run(): Promise<void> {
    let cursor: string | undefined;
    let failures = 0;
    while (!this.stopped) {
      let stream: SseClient;
      try {
        stream = await openSse(this.baseUrl, {
          token: this.jwt,
          query: { all: 'true' },
          ...(cursor ? { headers: { 'last-event-id': cursor } } : {}),
          timeoutMs: 60_000,
        });
      } catch {
        stream = { status: 0 } as SseClient;
      }
      if (stream.status !== 200) {
        // EventSource's reconnection delay (its `retry`), bounded in attempts.
        if (++failures > 200) throw new Error(`SSE reconnect kept failing (last status ${stream.status})`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      failures = 0;
      this.current = stream;
      if (this.stopped) stream.close();
      try {
        const first = await stream.next();
        this.verdicts.push(
          cursor === undefined ? 'fresh' : ((first.event.data as { resume?: unknown } | undefined)?.resume ?? 'none'),
        );
        for (;;) {
          const frame = await stream.next(undefined, 60_000);
          if (!isLogFrame(frame)) continue;
          this.frames.push(frame);
          cursor = frame.id;
        }
      } catch {
        // The stream ended (host drained, or stop()): reconnect with the cursor.
      }
    }
  }

  close(): void {
    this.stopped = true;
    this.current?.close();
  }

  async stop(): Promise<void> {
    this.close();
    await this.done;
  }
}

async function ensureAllHostsRunning(): Promise<void> {
  for (const host of c.hosts) if (!host.running) await c.startHost(host);
  for (const host of c.hosts) await c.waitForLb(host, 'UP');
}

// Non-destructive scenarios -----------------------------------------------------------------------

describe('cluster', () => {
  beforeEach(ensureAllHostsRunning, 120_000);

  it('(a) room updates reach members on every worker of every host', async () => {
    const t = tenant('rooms');
    const session = await createSession(t.rest());
    // Two sockets per host, connected one after another: the primary puts them on different workers.
    const members: Socket[] = [];
    for (const host of c.hosts)
      for (let i = 0; i < 2; i++) members.push(await cli(host.url, t, { sessionId: session.id }));
    for (const host of c.hosts) {
      const perWorker = await cliSocketsPerWorker(host);
      expect(Object.values(perWorker).sort(), `${host.name}: ${JSON.stringify(perWorker)}`).toEqual([1, 1]);
    }

    for (const [i, sender] of members.entries()) {
      sendMessage(sender, session.id, `from-${i}`);
      for (const [j, peer] of members.entries()) {
        if (j === i) continue;
        const update = UpdateEnvelopeSchema.parse(
          await nextEvent(peer, 'update', isNewMessage(session.id, `from-${i}`)),
        );
        expect(update.body).toMatchObject({
          t: 'new-message',
          sid: session.id,
          message: { seq: i + 1, localId: `from-${i}`, content: agentOutput(`from-${i}`) },
        });
      }
    }
    await Promise.all(members.map(pingBarrier));
    // Each member got exactly the three others' messages: the sender is excluded on every worker.
    for (const member of members) expect(pendingEvents(member, 'update')).toEqual([]);
    expect(members.map((member) => allEvents(member, 'update').length)).toEqual([3, 3, 3, 3]);
  }, 60_000);

  it('(b) REST and SSE on one host see what a CLI on the other host does', async () => {
    const [hostA, hostB] = c.hosts as [HubHost, HubHost];
    const t = tenant('web');
    const session = await createSession(t.rest(hostA.url));
    const jwt = await loginWeb(hostA.url, t.token);
    const stream = await sse(hostA.url, jwt);
    await hello(stream);
    const onB = await cli(hostB.url, t, { sessionId: session.id });

    sendMessage(onB, session.id, 'b-1');
    const received = await stream.next(isMessageReceived(session.id, 'b-1'));
    expect(received.event.message).toMatchObject({ seq: 1, localId: 'b-1', content: agentOutput('b-1') });

    const metadata = sessionMetadata({ name: 'renamed on B' });
    const ack = await emitAck(onB, 'update-metadata', {
      sid: session.id,
      expectedVersion: session.metadataVersion,
      metadata,
    });
    expect(ack).toMatchObject({ result: 'success', version: session.metadataVersion + 1, metadata });
    const updated = await stream.next(
      (frame) =>
        frame.event.type === 'session-updated' &&
        frame.event.sessionId === session.id &&
        (frame.event.data as { metadata?: unknown }).metadata !== undefined,
    );
    expect(updated.event.data).toMatchObject({ metadata: { version: session.metadataVersion + 1, value: metadata } });

    const web = webApi(hostA.url, jwt);
    const detail = await web.get(`/api/sessions/${session.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.session).toMatchObject({
      id: session.id,
      metadataVersion: session.metadataVersion + 1,
      metadata,
    });
    const page = await web.get(`/api/sessions/${session.id}/messages`);
    expect(page.status).toBe(200);
    expect((page.body.messages as { localId: string | null }[]).map((m) => m.localId)).toEqual(['b-1']);
  }, 60_000);

  it('(c) an RPC from a REST call on host A reaches the CLI socket on host B', async () => {
    const [hostA, hostB] = c.hosts as [HubHost, HubHost];
    const t = tenant('rpc');
    const machine = await createMachine(t.rest());
    const runner = await cli(hostB.url, t, { machineId: machine.id, clientType: 'machine-scoped' });
    serveListDirectory(runner, 'on-host-b');
    await registerRpc(runner, `${machine.id}:list-directory`);

    const web = webApi(hostA.url, await loginWeb(hostA.url, t.token));
    // Several calls, so they are served by both workers of host A (the primary spreads connections).
    for (let i = 0; i < 6; i++) {
      const response = await web.post(`/api/machines/${machine.id}/list-directory`, { path: `/work/${i}` });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(response.body).toEqual({
        success: true,
        entries: [{ name: 'on-host-b', type: 'directory' }],
        method: `${machine.id}:list-directory`,
      });
    }
    // Unregistered method on the same machine: the transport failure keeps its JSON shape.
    const missing = await web.post(`/api/machines/${machine.id}/paths/exists`, { paths: ['/x'] });
    expect(missing.status).toBe(503);
    expect(missing.body).toMatchObject({ code: 'rpc_target_missing' });
  }, 60_000);

  it("(c2) a tenant that knows another tenant's machine id cannot capture its RPCs from any worker", async () => {
    const [hostA, hostB] = c.hosts as [HubHost, HubHost];
    const [bob, alice] = [tenant('bob'), tenant('alice')];
    const machine = await createMachine(bob.rest());
    const bobRunner = await cli(hostB.url, bob, { machineId: machine.id, clientType: 'machine-scoped' });
    serveListDirectory(bobRunner, 'bob');
    await registerRpc(bobRunner, `${machine.id}:list-directory`);
    // alice makes a machine with bob's id (her own, fresh) and serves the same method for it.
    await createMachine(alice.rest(), { id: machine.id });
    const aliceRunner = await cli(hostA.url, alice, { machineId: machine.id, clientType: 'machine-scoped' });
    serveListDirectory(aliceRunner, 'alice');
    await registerRpc(aliceRunner, `${machine.id}:list-directory`);
    expect(pendingEvents(aliceRunner, 'error')).toEqual([]);

    const bobWeb = webApi(hostA.url, await loginWeb(hostA.url, bob.token));
    const aliceWeb = webApi(hostB.url, await loginWeb(hostB.url, alice.token));
    for (let i = 0; i < 4; i++) {
      const bobs = await bobWeb.post(`/api/machines/${machine.id}/list-directory`, { path: `/b/${i}` });
      expect(bobs.body).toMatchObject({ success: true, entries: [{ name: 'bob', type: 'directory' }] });
      const alices = await aliceWeb.post(`/api/machines/${machine.id}/list-directory`, { path: `/a/${i}` });
      expect(alices.body).toMatchObject({ success: true, entries: [{ name: 'alice', type: 'directory' }] });
    }
  }, 60_000);

  it('(d) long-polling clients work through HAProxy and the cluster primaries (200 messages round-trip)', async () => {
    const t = tenant('polling');
    const session = await createSession(t.rest());
    const polling: ConnectOptions = { transports: ['polling'] };
    const [p1, p2] = [
      await cli(c.lbUrl, t, { sessionId: session.id }, polling),
      await cli(c.lbUrl, t, { sessionId: session.id }, polling),
    ] as [Socket, Socket];
    expect(p1.io.engine.transport.name).toBe('polling');

    const exchange = async (from: Socket, to: Socket, prefix: string, count: number): Promise<number[]> => {
      for (let i = 0; i < count; i++) {
        sendMessage(from, session.id, `${prefix}-${i}`);
        // A ping ack every 20 messages bounds how much is in flight.
        if (i % 20 === 19) await pingBarrier(from);
      }
      const seqs: number[] = [];
      for (let i = 0; i < count; i++) {
        const update = UpdateEnvelopeSchema.parse(
          await nextEvent(to, 'update', isNewMessage(session.id, `${prefix}-${i}`), 10_000),
        );
        if (update.body.t === 'new-message') seqs.push(update.body.message.seq);
      }
      return seqs;
    };
    const forward = await exchange(p1, p2, 'p1', 100);
    const back = await exchange(p2, p1, 'p2', 100);
    expect(forward).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(back).toEqual(Array.from({ length: 100 }, (_, i) => i + 101));
    // No "Session ID unknown": neither client ever lost its engine.io session.
    expect(allEvents(p1, 'disconnect')).toEqual([]);
    expect(allEvents(p2, 'disconnect')).toEqual([]);
    expect(allEvents(p1, 'connect_error')).toEqual([]);
    const stored = await fetchAllMessages(t.rest(), session.id);
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  }, 90_000);

  it('(e) an SSE client that reconnects to the other host resumes `ok` with exactly the missed events', async () => {
    const [hostA, hostB] = c.hosts as [HubHost, HubHost];
    const t = tenant('resume');
    const session = await createSession(t.rest());
    const jwt = await loginWeb(c.lbUrl, t.token);
    // The control stream stays connected throughout: what it sees after the cursor is the truth.
    const control = await sse(hostA.url, jwt);
    await hello(control);
    const first = await sse(hostA.url, jwt);
    await hello(first);
    const writer = await cli(hostB.url, t, { sessionId: session.id });

    for (const id of ['m1', 'm2', 'm3']) sendMessage(writer, session.id, id);
    const cursor = (await first.next(isMessageReceived(session.id, 'm3'))).id;
    expect(cursor).toBeDefined();
    first.close();
    for (const id of ['m4', 'm5', 'm6', 'm7']) sendMessage(writer, session.id, id);
    await pingBarrier(writer);

    const resumed = await sse(hostB.url, jwt, cursor);
    expect(await hello(resumed)).toBe('ok');
    sendMessage(writer, session.id, 'm8');
    const replayed: SseFrame[] = [];
    for (;;) {
      const frame = await resumed.next(isLogFrame);
      replayed.push(frame);
      if (isMessageReceived(session.id, 'm8')(frame)) break;
    }
    await control.next((frame) => frame.id === cursor);
    const truth: SseFrame[] = [];
    for (;;) {
      const frame = await control.next(isLogFrame);
      truth.push(frame);
      if (isMessageReceived(session.id, 'm8')(frame)) break;
    }
    expect(replayed.map((f) => [f.id, f.data])).toEqual(truth.map((f) => [f.id, f.data]));
    const localIds = replayed
      .filter((f) => f.event.type === 'message-received')
      .map((f) => (f.event.message as { localId: string }).localId);
    expect(localIds).toEqual(['m4', 'm5', 'm6', 'm7', 'm8']);
    // Offsets are contiguous: nothing missing, nothing twice.
    const offsets = replayed.map((f) => splitEventId(f.id).offset);
    expect(offsets).toEqual(offsets.map((_, i) => splitEventId(cursor).offset + i + 1));
  }, 60_000);

  it('figures: connections per worker, events/s through the adapter, Redis commands per CLI message', async () => {
    const t = tenant('figures');
    const session = await createSession(t.rest());

    // 1. Connections per worker: 40 CLIs through HAProxy (leastconn) and the cluster primaries.
    const clis: Socket[] = [];
    for (let i = 0; i < 40; i++) clis.push(await cli(c.lbUrl, t, { sessionId: session.id }));
    const distribution: Record<string, Record<string, number>> = {};
    for (const host of c.hosts) distribution[host.name] = await cliSocketsPerWorker(host);
    console.log(`[figures] /cli sockets per worker after 40 connects through HAProxy: ${JSON.stringify(distribution)}`);
    const counts = Object.values(distribution).flatMap((perWorker) => Object.values(perWorker));
    expect(counts).toHaveLength(4);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(40);
    for (const count of counts) expect(count).toBeGreaterThan(0);
    for (const socket of clis.splice(0)) socket.close();

    // 2. Events/s through the adapter. Every CLI event is handled in order per socket, and each
    //    message costs ~20 Redis round trips before its room emit, so one sender measures the
    //    storage path, not the adapter. Hence four senders at once, one per worker, each message
    //    fanned out to the three other workers (1 PUBLISH, 3 deliveries).
    const members: Socket[] = [];
    for (const host of c.hosts)
      for (let i = 0; i < 2; i++) members.push(await cli(host.url, t, { sessionId: session.id }));
    const perSender = 75;
    const burstStart = Date.now();
    for (const [k, member] of members.entries())
      for (let i = 0; i < perSender; i++) sendMessage(member, session.id, `burst-${k}-${i}`);
    const expected = perSender * (members.length - 1);
    await waitFor("every member to get the three others' bursts", 60_000, () =>
      members.every((m) => allEvents(m, 'update', isNewMessage(session.id)).length >= expected),
    );
    const burstSeconds = (Date.now() - burstStart) / 1000;
    const total = perSender * members.length;
    console.log(
      `[figures] adapter burst: ${total} messages from 4 CLIs (one per worker, 2 hosts), each to the 3 others: ${burstSeconds.toFixed(2)} s = ` +
        `${Math.round(total / burstSeconds)} messages/s, ${Math.round((total * (members.length - 1)) / burstSeconds)} cross-worker deliveries/s`,
    );
    const [sender, ...receivers] = members as [Socket, ...Socket[]];

    // 3. Redis commands per CLI `message`: INFO commandstats deltas around a burst, minus the
    //    background rate (readiness probes, sweeper lock, ...) measured over a window of equal length.
    const redis = new Redis(c.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      const stats = async (): Promise<Map<string, number>> => {
        const info = await redis.info('commandstats');
        const calls = new Map<string, number>();
        for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1]!, Number(match[2]));
        return calls;
      };
      const delta = (after: Map<string, number>, before: Map<string, number>): Map<string, number> => {
        const out = new Map<string, number>();
        for (const [command, calls] of after) out.set(command, calls - (before.get(command) ?? 0));
        return out;
      };
      const messages = 200;
      const before = await stats();
      const startedAt = Date.now();
      for (let i = 0; i < messages; i++) sendMessage(sender, session.id, `count-${i}`);
      // The ping is handled after the 200 messages; on a loaded machine that takes a while.
      await emitAckArgsWithin(60_000, sender, 'ping');
      await waitFor('receivers to get the counted messages', 30_000, () =>
        receivers.every((r) => allEvents(r, 'update', isNewMessage(session.id, `count-${messages - 1}`)).length === 1),
      );
      const elapsed = Date.now() - startedAt;
      const during = delta(await stats(), before);
      // Measurement window (not synchronisation): background commands over the same duration.
      const idleBefore = await stats();
      await new Promise((resolve) => setTimeout(resolve, elapsed));
      const background = delta(await stats(), idleBefore);
      const perMessage: Record<string, number> = {};
      let commands = 0;
      for (const [command, calls] of during) {
        const net = calls - (background.get(command) ?? 0);
        if (command === 'info' || net <= 0) continue;
        perMessage[command] = Math.round((net / messages) * 100) / 100;
        commands += net;
      }
      console.log(
        `[figures] Redis commands per CLI message (${messages} messages from 1 CLI, 3 receivers, ${elapsed} ms = ${Math.round((messages * 1000) / elapsed)} messages/s, background subtracted): ` +
          `${(commands / messages).toFixed(2)} total, by command ${JSON.stringify(perMessage)}`,
      );
      expect(commands / messages).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  }, 120_000);

  // Destructive scenarios ---------------------------------------------------------------------------

  it('a crashed worker is restarted by its primary; its CLIs reconnect to the host', async () => {
    const [host] = c.hosts as [HubHost];
    const t = tenant('crash');
    const session = await createSession(t.rest());
    await waitFor(
      "earlier tests' sockets to be gone from the host",
      10_000,
      async () => sum(await cliSocketsPerWorker(host)) === 0,
    );
    const socket = await cli(host.url, t, { sessionId: session.id }, RECONNECTING);
    let perWorker: Record<string, number> = {};
    await waitFor('the socket to be counted', 10_000, async () => {
      perWorker = await cliSocketsPerWorker(host);
      return sum(perWorker) === 1;
    });
    const victimId = Object.entries(perWorker).find(([, count]) => count === 1)![0];
    const pid = host.workerPids()[victimId];
    expect(pid, JSON.stringify(host.workerPids())).toBeDefined();
    const idBefore = socket.id;
    process.kill(pid!, 'SIGKILL');

    // The client reconnects by itself to the same host (the surviving worker takes it).
    await waitFor('the CLI to reconnect', 20_000, () => socket.connected && socket.id !== idBefore);
    await pingBarrier(socket);
    // The primary forks a replacement (new cluster worker id) and the host keeps two workers.
    await waitFor('a replacement worker', 30_000, async () => {
      const ids = Object.keys(await cliSocketsPerWorker(host));
      return ids.length === 2 && !ids.includes(victimId);
    });
    expect(host.output()).toMatch(/worker died; restarting/);
    expect(await httpStatus(`${host.url}/ready`)).toBe(200);
  }, 90_000);

  it('(f) kill -9 of a host: CLIs move to the survivor, acked writes survive, RPC routes vanish, presence expires once', async () => {
    const [survivor, victim] = c.hosts as [HubHost, HubHost];
    const t = tenant('kill');
    const rest = t.rest(survivor.url);
    const session = await createSession(rest);
    const idle = await createSession(rest);
    const barrier = await createSession(rest);
    const machine = await createMachine(rest);
    const web = webApi(survivor.url, await loginWeb(survivor.url, t.token));
    const stream = await sse(survivor.url, web.jwt);
    await hello(stream);

    // The CLIs connect through HAProxy while the survivor is out of rotation, so they sit on the
    // victim and must come back through HAProxy when it dies.
    await c.setLbState(survivor, 'maint');
    let writer: Socket;
    let runner: Socket;
    try {
      writer = await cli(c.lbUrl, t, { sessionId: session.id, clientType: 'session-scoped' }, RECONNECTING);
      runner = await cli(c.lbUrl, t, { machineId: machine.id, clientType: 'machine-scoped' }, RECONNECTING);
    } finally {
      await c.setLbState(survivor, 'ready');
    }
    await c.waitForLb(survivor, 'UP');
    await waitFor(
      'no /cli socket of this test on the survivor',
      10_000,
      async () => sum(await cliSocketsPerWorker(survivor)) === 0,
    );
    expect(sum(await cliSocketsPerWorker(victim))).toBe(2);
    // A CLI that will stop beating when the victim dies (it does not reconnect).
    const sleeper = await cli(victim.url, t, { sessionId: idle.id });
    keepAlive(writer, session.id);
    keepAlive(sleeper, idle.id);
    await stream.next(
      (frame) =>
        frame.event.type === 'session-updated' &&
        frame.event.sessionId === idle.id &&
        (frame.event.data as { active?: unknown }).active === true,
    );

    serveListDirectory(runner, 'runner');
    await registerRpc(runner, `${machine.id}:list-directory`);
    const call = () => web.post(`/api/machines/${machine.id}/list-directory`, { path: '/' });
    expect((await call()).status).toBe(200);

    // Acked versioned writes, then a stream of acked messages with the kill in the middle.
    let version = session.metadataVersion;
    let lastMetadata: unknown = session.metadata;
    for (let i = 0; i < 5; i++) {
      lastMetadata = sessionMetadata({ name: `v${i}` });
      const ack = await emitAck<{ result: string; version: number }>(writer, 'update-metadata', {
        sid: session.id,
        expectedVersion: version,
        metadata: lastMetadata,
      });
      expect(ack.result).toBe('success');
      version = ack.version;
    }
    const messages = new AckedWriter(writer, session.id, 'k');
    const writerIdBefore = writer.id;
    const runnerIdBefore = runner.id;
    await messages.more(10);
    await c.killHost(victim);
    expect(victim.running).toBe(false);

    // The CLIs reconnect through HAProxy to the survivor.
    await waitFor(
      'writer and runner to reconnect',
      20_000,
      () => writer.connected && runner.connected && writer.id !== writerIdBefore && runner.id !== runnerIdBefore,
    );
    await waitFor(
      'both CLIs counted on the survivor',
      10_000,
      async () => sum(await cliSocketsPerWorker(survivor)) === 2,
    );
    await messages.more(10);
    await messages.stop();

    // The dead socket's RPC registration is gone: 503 until the CLI registers again, then it works.
    const stale = await call();
    expect(stale.status, JSON.stringify(stale.body)).toBe(503);
    expect(stale.body).toMatchObject({ code: 'rpc_target_missing' });
    await registerRpc(runner, `${machine.id}:list-directory`);
    const fresh = await call();
    expect(fresh.status).toBe(200);
    expect(fresh.body).toMatchObject({ success: true, entries: [{ name: 'runner', type: 'directory' }] });

    // No acked write was lost.
    const stored = await fetchAllMessages(rest, session.id);
    const storedIds = new Set(stored.map((m) => m.localId));
    expect(messages.acked.filter((id) => !storedIds.has(id))).toEqual([]);
    expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1));
    const row = await fetchSession(rest, session.id);
    expect(row.metadataVersion).toBe(version);
    expect(row.metadata).toEqual(lastMetadata);
    expect(
      await emitAck(writer, 'update-metadata', {
        sid: session.id,
        expectedVersion: version,
        metadata: sessionMetadata({ name: 'after' }),
      }),
    ).toMatchObject({ result: 'success', version: version + 1 });

    // The sleeper's session expires exactly once; the writer's, still beating elsewhere, never.
    await stream.next(isInactive(idle.id), SESSION_TTL_MS + 10_000);
    // Barrier: a session that beats once now expires a full TTL later, so by the time its expiry
    // arrives the sweeper has run many more times over the sleeper's overdue entry.
    const lastBeat = await cli(survivor.url, t, { sessionId: barrier.id });
    lastBeat.emit('session-alive', { sid: barrier.id, time: Date.now(), thinking: false });
    await stream.next(isInactive(barrier.id), SESSION_TTL_MS + 10_000);
    expect(stream.frames.filter(isInactive(idle.id))).toHaveLength(1);
    expect(stream.frames.filter(isInactive(session.id))).toHaveLength(0);
    expect((await web.get(`/api/sessions/${session.id}`)).body.session).toMatchObject({ active: true });
    expect((await web.get(`/api/sessions/${idle.id}`)).body.session).toMatchObject({ active: false });

    await c.startHost(victim);
  }, 180_000);

  it('(g) rolling restart (SIGTERM each host, start it again) loses no acked message; every SSE client resumes ok', async () => {
    const t = tenant('rolling');
    const session = await createSession(t.rest());
    const jwt = await loginWeb(c.lbUrl, t.token);
    const readers = Array.from({ length: 4 }, () => new ResumingSse(c.lbUrl, jwt));
    openStreams.push(...readers);
    await waitFor('4 SSE clients connected', 20_000, () => readers.every((r) => r.connections === 1));
    const writer = await cli(c.lbUrl, t, { sessionId: session.id }, RECONNECTING);
    keepAlive(writer, session.id, 1_000);
    const messages = new AckedWriter(writer, session.id, 'r');
    await messages.more(5);

    for (const host of c.hosts) {
      const exit = await c.stopHost(host);
      console.log(
        `[rolling] ${host.name} drained and exited in ${exit.durationMs} ms (code ${exit.code}, signal ${exit.signal})`,
      );
      // Drained by itself (exit 0), before the drain deadline killed anything.
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(exit.durationMs).toBeLessThan(DRAIN_TIMEOUT_MS + 2_000);
      expect(host.output()).not.toMatch(/drain deadline reached/);
      await messages.more(5);
      await c.startHost(host);
      await messages.more(5);
    }
    await messages.stop();
    // Everything acked so far must show up on every reader; wait for the last one to arrive.
    const last = messages.acked[messages.acked.length - 1]!;
    await waitFor('every SSE client to see the last acked message', 20_000, () =>
      readers.every((r) => r.frames.some(isMessageReceived(session.id, last))),
    );
    await Promise.all(readers.map((r) => r.stop()));

    const stored = await fetchAllMessages(t.rest(), session.id);
    const storedIds = new Set(stored.map((m) => m.localId));
    expect(messages.acked.filter((id) => !storedIds.has(id))).toEqual([]);
    for (const [i, reader] of readers.entries()) {
      // Each reader was on a host that restarted at least once, and every reconnect resumed ok.
      expect(reader.connections, `reader ${i}`).toBeGreaterThanOrEqual(2);
      expect(reader.verdicts, `reader ${i}`).toEqual([
        'fresh',
        ...Array.from({ length: reader.connections - 1 }, () => 'ok'),
      ]);
      // Contiguous offsets: no event missed, none delivered twice, across every reconnect.
      const offsets = reader.frames.map((f) => splitEventId(f.id).offset);
      expect(offsets, `reader ${i}`).toEqual(offsets.map((_, k) => offsets[0]! + k));
      const received = new Set(
        reader.frames
          .filter((f) => f.event.type === 'message-received')
          .map((f) => (f.event.message as { localId: string }).localId),
      );
      expect(
        messages.acked.filter((id) => !received.has(id)),
        `reader ${i}`,
      ).toEqual([]);
    }
  }, 300_000);

  it('(h) Redis restart (AOF): writes fail clearly while it is down, and the cluster recovers by itself', async () => {
    const [hostA, hostB] = c.hosts as [HubHost, HubHost];
    const t = tenant('redis');
    const session = await createSession(t.rest());
    const jwt = await loginWeb(c.lbUrl, t.token);
    const onA = await cli(hostA.url, t, { sessionId: session.id });
    const onB = await cli(hostB.url, t, { sessionId: session.id });
    const metadata = sessionMetadata({ name: 'before outage' });
    expect(
      await emitAck(onA, 'update-metadata', { sid: session.id, expectedVersion: session.metadataVersion, metadata }),
    ).toMatchObject({ result: 'success' });
    const version = session.metadataVersion + 1;
    sendMessage(onA, session.id, 'before');
    await pingBarrier(onA);

    await c.restartRedis(async () => {
      const startedAt = Date.now();
      // Acked socket writes answer `unavailable` promptly.
      expect(
        await emitAckArgsWithin(10_000, onA, 'update-metadata', {
          sid: session.id,
          expectedVersion: version,
          metadata: sessionMetadata({ name: 'lost' }),
        }),
      ).toEqual([{ result: 'error', reason: 'unavailable' }]);
      // Unacked ones get an `error` event saying so.
      sendMessage(onB, session.id, 'during');
      expect(await nextEvent(onB, 'error', undefined, 10_000)).toMatchObject({ code: 'unavailable' });
      // HTTP writes and reads answer 503 JSON on both hosts.
      const created = await t
        .rest(hostB.url)
        .createSession({ tag: 'during-outage', metadata: sessionMetadata(), agentState: {} });
      expect(created.status).toBe(503);
      expect(created.body).toEqual(expect.objectContaining({ error: expect.any(String) }));
      const listed = await webApi(hostA.url, jwt).get('/api/sessions');
      expect(listed.status).toBe(503);
      expect(typeof listed.body).toBe('object');
      for (const host of c.hosts) {
        expect(await httpStatus(`${host.url}/ready`)).toBe(503);
        expect(await httpStatus(`${host.url}/health`)).toBe(200);
      }
      expect(Date.now() - startedAt).toBeLessThan(30_000);
      expect(c.hosts.every((host) => host.running)).toBe(true);
      expect(onA.connected && onB.connected).toBe(true);
    });

    // Recovery without intervention: readiness, then HAProxy, come back.
    for (const host of c.hosts)
      await waitFor(
        `${host.name} ready after the Redis restart`,
        30_000,
        async () => (await httpStatus(`${host.url}/ready`)) === 200,
      );
    for (const host of c.hosts) await c.waitForLb(host, 'UP', 20_000);
    expect(c.hosts.every((host) => host.running)).toBe(true);
    // Every worker's subscriber connections come back too (ioredis re-subscribes them): the
    // Socket.IO adapter's request channel and the engine's event channel, one per worker. They
    // reconnect on their own backoff, possibly after /ready is already 200 again.
    const redis = new Redis(c.redisUrl, { maxRetriesPerRequest: 1 });
    try {
      const readyAt = Date.now();
      let counts: (string | number)[] = [];
      await waitFor('every worker to re-subscribe', 20_000, async () => {
        counts = (await redis.pubsub('NUMSUB', 'hapi-sio-request#/cli#', 'hapi:events')) as (string | number)[];
        return Number(counts[1]) === 4 && Number(counts[3]) === 4;
      });
      console.log(
        `[redis restart] subscriptions (adapter, event bus) complete ${Date.now() - readyAt} ms after every host was ready and UP again`,
      );
    } finally {
      redis.disconnect();
    }

    // AOF kept the acked state; nothing of the failed writes was applied.
    const row = await fetchSession(t.rest(), session.id);
    expect(row.metadataVersion).toBe(version);
    expect(row.metadata).toEqual(metadata);
    expect((await fetchAllMessages(t.rest(), session.id)).map((m) => m.localId)).toEqual(['before']);

    // The same sockets write again, and the adapter delivers across hosts again (re-subscribed).
    const next = sessionMetadata({ name: 'after outage' });
    await waitFor('writes to succeed again', 20_000, async () => {
      const ack = await emitAck<{ result: string }>(onA, 'update-metadata', {
        sid: session.id,
        expectedVersion: version,
        metadata: next,
      });
      return ack.result === 'success';
    });
    const isNext = (update: unknown): boolean =>
      isUpdateSession(session.id)(update) &&
      (update as { body: { metadata?: { version?: unknown } | null } }).body.metadata?.version === version + 1;
    expect(UpdateEnvelopeSchema.parse(await nextEvent(onB, 'update', isNext, 10_000)).body).toMatchObject({
      metadata: { version: version + 1, value: next },
    });
    const stream = await sse(hostB.url, jwt);
    await hello(stream);
    sendMessage(onA, session.id, 'after');
    await stream.next(isMessageReceived(session.id, 'after'), 10_000);
    expect(
      UpdateEnvelopeSchema.parse(await nextEvent(onB, 'update', isNewMessage(session.id, 'after'))).body,
    ).toMatchObject({ t: 'new-message' });
    // No worker crashed or was restarted over the outage (host logs start at their last start).
    for (const host of c.hosts) expect(host.output()).not.toMatch(/worker died|"level":60|unhandled/i);
  }, 180_000);
});
