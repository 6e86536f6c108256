// `docker compose up` for real: the repository's docker-compose.yml, the image built from
// deploy/Dockerfile, Redis and HAProxy containers (HAProxy discovers the replicas through
// Docker's DNS, with deploy/haproxy.compose.cfg as it is), driven through the published HAProxy
// port by CLI sockets (websocket and long-polling) and a web client (REST + SSE). Then the faults
// users meet: a replica killed under traffic, Redis restarted, a replica added; then `down -v`.
// Skips with one line when no Docker engine answers (scripts/container-engine.sh starts one).
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRest, connectCli, pingBarrier } from '../helpers/cli-client.js';
import { ensureHapiCli, HapiProcesses, pollUntil } from '../helpers/hapi-cli.js';
import { waitFor } from '../helpers/cluster.js';
import { containerEngine, docker, ensureBaseImages, REPO_ROOT } from '../helpers/docker.js';
import { createSession, fetchAllMessages } from '../helpers/fixtures.js';
import { openSse, type SseClient, type SseFrame } from '../helpers/sse-client.js';
import { loginWeb, webApi } from '../helpers/web-api.js';
import { loadCompose } from '../deploy/compose.js';
import { readRepoFile } from '../deploy/sources.js';
import { composeProject, metricValue, projectLeftovers, type ComposeProject } from './compose-project.js';

const engine = containerEngine();
if (!engine.available) console.log(`[containers] compose e2e skipped: ${engine.reason}`);

const REPLICAS = 3;
const SENDERS = 6;
/** Bounds of the traffic loop: per sender at most this many messages, one per interval. */
const MAX_MESSAGES_PER_SENDER = 600;
const SEND_INTERVAL_MS = 100;

interface Sender {
  socket: Socket;
  sessionId: string;
  transport: 'websocket' | 'polling';
  sent: number;
  disconnects: number;
}

describe.skipIf(!engine.available)(`docker compose up (real containers, ${REPLICAS} hub replicas × 2 workers)`, () => {
  let project: ComposeProject;
  let token = '';
  let jwt = '';
  const sockets: Socket[] = [];
  const streams: SseClient[] = [];
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    let t0 = Date.now();
    ensureBaseImages();
    timings.baseImages = Date.now() - t0;
    project = await composeProject({ HAPI_WORKERS: '2' });
    t0 = Date.now();
    await project.compose(['up', '--build', '--wait', '--quiet-pull', '--scale', `hub=${REPLICAS}`], 15 * 60_000);
    timings.composeUp = Date.now() - t0;
    await waitFor('a replica to print the generated CLI_API_TOKEN', 30_000, async () =>
      /CLI_API_TOKEN \(generated/.test(await project.logs('hub')),
    );
    token = /CLI_API_TOKEN \(generated, keep it safe\): (\S+)/.exec(await project.logs('hub'))![1]!;
    await project.waitForLbReplicas(REPLICAS, 60_000);
    jwt = await loginWeb(project.lbUrl, token);
    console.log(
      `[containers] compose project ${project.name} on ${project.lbUrl}: engine ${engine.available ? engine.version : ''}, compose ${engine.available ? engine.compose : ''}; base images ${timings.baseImages} ms, up --build --wait ${timings.composeUp} ms`,
    );
  }, 20 * 60_000);

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    for (const stream of streams) stream.close();
    // Whatever a failed test left: the project goes, with its volume.
    if (project)
      await docker(
        [
          'compose',
          '-p',
          project.name,
          '-f',
          `${REPO_ROOT}/docker-compose.yml`,
          'down',
          '-v',
          '--remove-orphans',
          '-t',
          '5',
        ],
        { timeoutMs: 120_000 },
      );
  }, 180_000);

  it('runs Redis, the replicas (each a primary with 2 workers) and HAProxy, all healthy; one token printed once', async () => {
    const containers = await project.containers();
    const byService = (service: string) => containers.filter((c) => c.service === service);
    expect(byService('redis').map((c) => [c.state, c.health])).toEqual([['running', 'healthy']]);
    expect(byService('haproxy').map((c) => c.state)).toEqual(['running']);
    expect(byService('hub').map((c) => [c.state, c.health])).toEqual(Array(REPLICAS).fill(['running', 'healthy']));
    // HAPI_WORKERS=2 inside the containers: tini → primary → 2 workers.
    for (const hub of byService('hub')) {
      // Workers run as `node [<HUB_NODE_FLAGS>] /app/dist/main.js serve` (cluster.fork, with
      // the primary's worker flags), the primary as tini's child.
      const top = (await docker(['top', hub.id, '-eo', 'pid,args'])).stdout
        .split('\n')
        .filter((l) => /\bnode (--\S+ )*\S*dist\/main\.js serve/.test(l) && !l.includes('tini'));
      expect(top.length, top.join('\n')).toBe(1 + 2);
    }
    const printed = (await project.logs('hub')).split('\n').filter((l) => l.includes('CLI_API_TOKEN (generated'));
    expect(printed).toHaveLength(1);
    // HAProxy runs the repository's compose config unchanged.
    const [lb] = byService('haproxy');
    expect((await docker(['exec', lb!.id, 'cat', '/usr/local/etc/haproxy/haproxy.cfg'])).stdout).toBe(
      readRepoFile('deploy/haproxy.compose.cfg'),
    );
  });

  it('Redis requires the generated password (never logged); metrics only on the internal port', async () => {
    const [redis] = (await project.containers('redis')).filter((c) => c.state === 'running');
    const anonymous = await docker(['exec', redis!.id, 'redis-cli', 'get', 'x']);
    expect(anonymous.stdout + anonymous.stderr).toMatch(/NOAUTH/);
    const password = (await docker(['exec', redis!.id, 'cat', '/run/hapi-redis/redis-password'])).stdout.trim();
    expect(password).toMatch(/^[0-9a-f]{64}$/);
    expect(await project.logs('hub')).not.toContain(password);
    expect(await project.logs('redis')).not.toContain(password);
    for (const hub of (await project.containers('hub')).filter((c) => c.state === 'running')) {
      expect(metricValue(await project.metricsInside(hub.id), 'hapi_cli_connections')).toBeGreaterThanOrEqual(0);
      expect(await project.fetchInside(hub.id, '/metrics')).toMatch(/Not found/i);
    }
  });

  it('HAProxy discovers every replica through Docker DNS and keeps long-polling sessions on theirs', async () => {
    expect((await project.lbReplicaCookies(4 * REPLICAS)).size).toBe(REPLICAS);
  });

  it('CLI messages over websocket and long-polling reach the web client over SSE, and REST reads them back', async () => {
    const rest = cliRest(project.lbUrl, token);
    const session = await createSession(rest);
    const sse = await openSse(project.lbUrl, { token: jwt, query: { all: 'true' }, timeoutMs: 15_000 });
    streams.push(sse);
    expect(sse.status).toBe(200);
    await sse.next((f) => f.event.type === 'connection-changed');
    const auth = { token, clientType: 'session-scoped', sessionId: session.id };
    const poller = await connectCli(project.lbUrl, auth, { transports: ['polling'], timeoutMs: 15_000 });
    const ws = await connectCli(project.lbUrl, auth, { timeoutMs: 15_000 });
    sockets.push(poller, ws);
    await Promise.all([pingBarrier(poller), pingBarrier(ws)]);
    expect(poller.io.engine.transport.name).toBe('polling');
    expect(ws.io.engine.transport.name).toBe('websocket');
    const viaPolling = { role: 'agent', content: { type: 'output', data: 'compose: long-polling' } };
    const viaWs = { role: 'agent', content: { type: 'output', data: 'compose: websocket' } };
    poller.emit('message', { sid: session.id, message: viaPolling, localId: 'p1' });
    expect(
      (await sse.next((f) => f.event.type === 'message-received' && f.event.sessionId === session.id, 15_000)).event,
    ).toMatchObject({ message: { seq: 1, content: viaPolling } });
    ws.emit('message', { sid: session.id, message: viaWs, localId: 'w1' });
    expect(
      (await sse.next((f) => f.event.type === 'message-received' && f.event.sessionId === session.id, 15_000)).event,
    ).toMatchObject({ message: { seq: 2, content: viaWs } });
    const stored = await fetchAllMessages(rest, session.id);
    expect(stored.map((m) => [m.seq, m.localId, m.content])).toEqual([
      [1, 'p1', viaPolling],
      [2, 'w1', viaWs],
    ]);
    poller.close();
    ws.close();
    // A web client that leaves through HAProxy frees its stream on the replica at once
    // (`option abortonclose`), not only when the next heartbeat write fails (30 s later).
    const hubs = (await project.containers('hub')).filter((c) => c.state === 'running');
    const openStreams = async () =>
      (
        await Promise.all(
          hubs.map(async (hub) => metricValue(await project.metricsInside(hub.id), 'hapi_sse_subscribers')),
        )
      ).reduce((a, b) => a + b, 0);
    expect(await openStreams()).toBe(1);
    sse.close();
    await waitFor(
      'the replica to close the SSE stream its client left',
      5_000,
      async () => (await openStreams()) === 0,
    );
  });

  it('the real HAPI CLI (runner 0.30.7) through HAProxy: a web spawn reaches it, and a web prompt comes back as the agent reply', async (ctx) => {
    const cli = await ensureHapiCli();
    if (!cli.bin) {
      console.log(`[containers] real HAPI CLI part skipped: ${cli.reason}`);
      ctx.skip();
      return;
    }
    const procs = new HapiProcesses(cli.bin);
    const sse = await openSse(project.lbUrl, { token: jwt, query: { all: 'true' }, timeoutMs: 30_000 });
    try {
      const workspace = procs.tempDir('workspace');
      const runner = procs.spawn(['runner', 'start-sync', '--workspace-root', workspace], {
        hubUrl: project.lbUrl,
        token,
        pathPrepend: [procs.fakeBin],
      });
      const machineId = (await runner.waitForOutput(/Machine ID:\s+(\S+)/))[1]!;
      const web = webApi(project.lbUrl, jwt);
      await pollUntil(
        async () =>
          (
            (await web.get('/api/machines')).body?.machines as
              | { id: string; runnerState?: { status?: string } }[]
              | undefined
          )?.find((m) => m.id === machineId)?.runnerState?.status === 'running',
        'runner online',
        30_000,
      );
      // Spawn: REST on one replica, RPC to the runner's socket wherever HAProxy put it.
      const spawned = await web.post(`/api/machines/${machineId}/spawn`, { directory: workspace, agent: 'claude' });
      expect(spawned.status, JSON.stringify(spawned.body)).toBe(200);
      expect(spawned.body.type, JSON.stringify(spawned.body)).toBe('success');
      const sid = spawned.body.sessionId as string;
      await pollUntil(
        async () => (await web.get(`/api/sessions/${sid}`)).body?.session?.active === true,
        `session ${sid} active`,
        30_000,
      );
      const sent = await web.post(`/api/sessions/${sid}/messages`, {
        text: 'hello through haproxy',
        localId: `compose-${Date.now()}`,
      });
      expect(sent).toMatchObject({ status: 200, body: { ok: true } });
      const reply = await sse.next((f) => {
        const e = f.event as { type: string; sessionId?: string; message?: { content?: { role?: string } } };
        return (
          e.type === 'message-received' &&
          e.sessionId === sid &&
          e.message?.content?.role === 'agent' &&
          f.data.includes('fake reply')
        );
      }, 60_000);
      expect(reply.event).toMatchObject({ sessionId: sid });
    } finally {
      sse.close();
      await procs.cleanup();
    }
  }, 180_000);

  it('a replica killed under traffic: its CLIs reconnect, no acknowledged message is lost, SSE resumes ok', async () => {
    const rest = cliRest(project.lbUrl, token);
    // The web client's stream, and the replica holding it: the one whose SSE gauge went up by one
    // (a stream closed by an earlier test may still be counted on its replica, see below).
    const hubs = (await project.containers('hub')).filter((c) => c.state === 'running');
    const sseCounts = async () =>
      Promise.all(hubs.map(async (hub) => metricValue(await project.metricsInside(hub.id), 'hapi_sse_subscribers')));
    const baseline = await sseCounts();
    let sse = await openSse(project.lbUrl, { token: jwt, query: { all: 'true' }, timeoutMs: 15_000 });
    streams.push(sse);
    await sse.next((f) => f.event.type === 'connection-changed');
    const grown = (await sseCounts()).map((count, i) => count - baseline[i]!);
    expect(
      grown.filter((d) => d > 0),
      `SSE gauge changes per replica: ${grown.join(', ')}`,
    ).toEqual([1]);
    const victim = hubs[grown.indexOf(1)]!;

    // Senders spread by HAProxy (leastconn) over the replicas, half websocket, half long-polling,
    // with reconnection on as the real CLI has it.
    const senders: Sender[] = [];
    for (let i = 0; i < SENDERS; i++) {
      const session = await createSession(rest);
      const transport = i % 2 === 0 ? 'websocket' : 'polling';
      const socket = await connectCli(
        project.lbUrl,
        { token, clientType: 'session-scoped', sessionId: session.id },
        {
          transports: [transport],
          reconnection: true,
          timeoutMs: 15_000,
          extra: { reconnectionDelay: 200, reconnectionDelayMax: 1_000 },
        },
      );
      sockets.push(socket);
      const sender: Sender = { socket, sessionId: session.id, transport, sent: 0, disconnects: 0 };
      socket.on('disconnect', () => sender.disconnects++);
      senders.push(sender);
    }
    const victimCli = metricValue(await project.metricsInside(victim.id), 'hapi_cli_connections');
    expect(victimCli, 'CLI sockets on the replica to be killed').toBeGreaterThanOrEqual(1);

    // Acknowledged = delivered to the web client: a message-received frame on SSE carrying its localId.
    const acked = new Map<string, Set<string>>(senders.map((s) => [s.sessionId, new Set()]));
    const noteAcks = (frames: readonly SseFrame[]) => {
      for (const frame of frames) {
        const event = frame.event as { type: string; sessionId?: string; message?: { localId?: string | null } };
        if (event.type === 'message-received' && event.message?.localId)
          acked.get(event.sessionId ?? '')?.add(event.message.localId);
      }
    };
    let sending = true;
    const traffic = senders.map(async (sender) => {
      while (sending && sender.sent < MAX_MESSAGES_PER_SENDER) {
        const localId = `${sender.transport}-${sender.sent++}`;
        sender.socket.emit('message', {
          sid: sender.sessionId,
          message: { role: 'agent', content: { type: 'output', data: localId } },
          localId,
        });
        await new Promise((resolve) => setTimeout(resolve, SEND_INTERVAL_MS));
      }
    });
    try {
      await waitFor('traffic to flow from every sender', 20_000, () => {
        noteAcks(sse.frames);
        return [...acked.values()].every((ids) => ids.size >= 3);
      });

      const killedAt = Date.now();
      const killed = await docker(['kill', victim.id]);
      expect(killed.code, killed.stderr).toBe(0);

      // The stream on the killed replica ends; the client resumes from its last event id on another.
      await Promise.race([
        sse.ended,
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error('SSE stream did not end after its replica was killed')), 30_000),
        ),
      ]);
      noteAcks(sse.frames);
      const lastId = [...sse.frames].reverse().find((f) => f.id)?.id;
      expect(lastId).toBeDefined();
      let resumed: SseClient | undefined;
      await waitFor('SSE to reconnect through HAProxy', 30_000, async () => {
        resumed = await openSse(project.lbUrl, {
          token: jwt,
          query: { all: 'true', lastEventId: lastId! },
          timeoutMs: 15_000,
        }).catch(() => undefined);
        return resumed?.status === 200;
      });
      sse = resumed!;
      streams.push(sse);
      const hello = await sse.next((f) => f.event.type === 'connection-changed');
      expect((hello.event as { data?: { resume?: string } }).data?.resume).toBe('ok');

      // Every sender that lost its replica reconnected, and messages flow again from all of them.
      const onVictim = senders.filter((s) => s.disconnects > 0);
      expect(onVictim.length).toBeGreaterThanOrEqual(1);
      const ackedBefore = new Map([...acked].map(([sid, ids]) => [sid, ids.size]));
      await waitFor('every sender to be acknowledged again after the kill', 60_000, () => {
        noteAcks(sse.frames);
        return senders.every(
          (s) => s.socket.connected && acked.get(s.sessionId)!.size >= ackedBefore.get(s.sessionId)! + 3,
        );
      });
      console.log(
        `[containers] killed ${victim.name}: ${onVictim.length} of ${SENDERS} CLIs reconnected; traffic acknowledged again ${Date.now() - killedAt} ms after docker kill was issued`,
      );
    } finally {
      sending = false;
      await Promise.all(traffic);
    }
    // Nothing acknowledged is missing, nothing is stored twice, seqs have no gaps.
    await waitFor('the last messages to be delivered', 20_000, async () => {
      noteAcks(sse.frames);
      const counts = await Promise.all(senders.map(async (s) => (await fetchAllMessages(rest, s.sessionId)).length));
      return counts.every((n, i) => n >= acked.get(senders[i]!.sessionId)!.size);
    });
    for (const sender of senders) {
      const stored = await fetchAllMessages(rest, sender.sessionId);
      const localIds = stored.map((m) => m.localId);
      expect(new Set(localIds).size).toBe(localIds.length);
      expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1));
      const missing = [...acked.get(sender.sessionId)!].filter((id) => !localIds.includes(id));
      expect(missing, `acknowledged but not stored (session ${sender.sessionId})`).toEqual([]);
    }
    for (const sender of senders) sender.socket.close();
  }, 240_000);

  it('docker compose restart redis: writes fail with a clear error while it is away, then recover with the data kept (AOF)', async () => {
    const rest = cliRest(project.lbUrl, token);
    const before = await createSession(rest);
    const failures: { status: number; body: unknown }[] = [];
    let successesAfter = 0;
    let restarted = false;
    const restart = project.compose(['restart', 'redis'], 120_000).then(() => (restarted = true));
    // Bounded: stops once Redis is back and a write succeeded again, or after 60 s.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(restarted && successesAfter > 0)) {
      const response = await rest
        .createSession({
          tag: `during-restart-${Date.now()}`,
          metadata: { path: '/tmp', host: 'compose-e2e' },
          agentState: {},
        })
        .catch((error: Error) => ({ status: 0, body: error.message }));
      if (response.status === 200) {
        if (restarted) successesAfter++;
      } else failures.push({ status: response.status, body: response.body });
    }
    await restart;
    expect(successesAfter).toBeGreaterThan(0);
    expect(failures.length, 'writes failing while Redis restarts').toBeGreaterThan(0);
    // Each failure is a clear answer: the hub's 503 naming the storage, or HAProxy's 503 while
    // it has marked every replica not ready (their /ready follows the engine).
    for (const failure of failures) {
      expect(failure.status, JSON.stringify(failure.body)).toBe(503);
      if (typeof failure.body === 'object') expect(failure.body).toMatchObject({ code: 'engine_unavailable' });
      else expect(String(failure.body)).toMatch(/503 Service Unavailable|No server is available/);
    }
    expect(failures.some((f) => typeof f.body === 'object')).toBe(true);
    // Recovered: every worker of every replica reconnects by itself (ioredis backoff), so within
    // a bounded time a run of reads and writes through HAProxy all succeed; the data from before
    // the restart is still there (AOF on the volume).
    let streak = 0;
    await waitFor('20 consecutive successful writes and reads after the restart', 60_000, async () => {
      const write = await rest
        .createSession({
          tag: `after-restart-${Date.now()}`,
          metadata: { path: '/tmp', host: 'compose-e2e' },
          agentState: {},
        })
        .catch(() => ({ status: 0 }));
      const read = await rest.getSession(before.id).catch(() => ({ status: 0 }));
      streak = write.status === 200 && read.status === 200 ? streak + 1 : 0;
      return streak >= 20;
    });
    await project.waitForLbReplicas(
      (await project.containers('hub')).filter((c) => c.state === 'running').length,
      60_000,
    );
  }, 180_000);

  it('docker compose up --scale hub=4 adds a replica that HAProxy uses', async () => {
    await project.compose(['up', '--wait', '--no-build', '--scale', 'hub=4'], 180_000);
    const hubs = (await project.containers('hub')).filter((c) => c.state === 'running');
    expect(hubs).toHaveLength(4);
    await project.waitForLbReplicas(4, 60_000);
  }, 240_000);

  it('docker compose stop: every replica drains and exits 0 within stop_grace_period, with CLIs connected', async () => {
    const rest = cliRest(project.lbUrl, token);
    const session = await createSession(rest);
    for (let i = 0; i < 4; i++)
      sockets.push(
        await connectCli(
          project.lbUrl,
          { token, clientType: 'session-scoped', sessionId: session.id },
          { timeoutMs: 15_000 },
        ),
      );
    const grace = loadCompose().services.hub.stop_grace_period as string;
    const started = Date.now();
    await project.compose(['stop', 'hub'], 120_000);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(Number(/^(\d+)s$/.exec(grace)![1]) * 1000);
    const inspected = JSON.parse(
      (await docker(['inspect', ...(await project.containers('hub')).map((c) => c.id)])).stdout,
    ) as { Name: string; State: { Status: string; ExitCode: number } }[];
    // The replica killed earlier (if Docker did not restart it) exited 137; every stopped one 0.
    const stopped = inspected.filter((c) => c.State.ExitCode !== 137);
    expect(stopped.length).toBeGreaterThanOrEqual(3);
    expect(stopped.map((c) => [c.Name, c.State.Status, c.State.ExitCode])).toEqual(
      stopped.map((c) => [c.Name, 'exited', 0]),
    );
  }, 180_000);

  it('docker compose down -v leaves no container, volume or network behind', async () => {
    await project.compose(['down', '-v', '--remove-orphans', '-t', '30'], 180_000);
    expect(await projectLeftovers(project.name)).toEqual([]);
  }, 240_000);
});
