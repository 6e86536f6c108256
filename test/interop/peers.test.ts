// Interop: the real CLI's peer tools (`hapi inspect-peer`, `hapi ping-peer`) against our hub.
// They exchange the CLI token for a JWT (POST /api/auth) and then use GET /api/sessions (bare, or
// ?limit=&order=updatedAt for --list), GET /api/sessions/:id, GET /api/sessions/:id/messages?limit=,
// POST /api/sessions/:id/messages {text} and, for inactive targets, POST /api/sessions/:id/resume.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { cliRest, closeAll, connectCli, isNewMessage, nextEvent, pingBarrier } from '../helpers/cli-client.js';
import { ensureHapiCli, HapiProcesses, pollUntil } from '../helpers/hapi-cli.js';
import { announceSkip, startInteropHub, WebClient, type InteropHub } from './support.js';

const cli = await ensureHapiCli();
announceSkip('peer tools interop', cli.reason);

const NS = 'peers';

describe.skipIf(!cli.bin)('hapi inspect-peer / ping-peer against our hub', { timeout: 90_000 }, () => {
  let hub: InteropHub;
  let procs: HapiProcesses;
  let token: string;
  let web: WebClient;
  /** A session created through the CLI plane by a plain socket.io client (no real agent). */
  let sid: string;
  let socket: Socket;
  /** An inactive one (never sent session-alive). */
  let idleSid: string;

  beforeAll(async () => {
    hub = await startInteropHub();
    procs = new HapiProcesses(cli.bin!);
    token = hub.tokenFor(NS);
    web = await WebClient.login(hub.url, token);
    const rest = cliRest(hub.url, token);
    const created = await rest.createSession({
      tag: randomUUID(),
      metadata: {
        path: '/work/peer-project',
        host: 'peer-host',
        flavor: 'claude',
        name: 'Peer target',
        lifecycleState: 'running',
      },
      agentState: { controlledByUser: false },
    });
    expect(created.status).toBe(200);
    sid = created.body.session.id;
    socket = await connectCli(hub.url, { token, clientType: 'session-scoped', sessionId: sid });
    socket.emit('session-alive', { sid, time: Date.now(), thinking: false, mode: 'remote' });
    socket.emit('message', {
      sid,
      message: { role: 'user', content: { type: 'text', text: 'please check the build' }, meta: { sentFrom: 'cli' } },
    });
    socket.emit('message', {
      sid,
      message: {
        role: 'agent',
        content: {
          type: 'output',
          data: {
            type: 'assistant',
            message: { role: 'assistant', content: [{ type: 'text', text: 'The build is green.' }] },
          },
        },
        meta: { sentFrom: 'cli' },
      },
    });
    await pingBarrier(socket);
    await pollUntil(async () => (await web.session(sid)).active === true, 'peer target active');

    const idle = await rest.createSession({
      tag: randomUUID(),
      metadata: { path: '/work/idle', host: 'peer-host', flavor: 'claude' },
      agentState: {},
    });
    idleSid = idle.body.session.id;
  }, 60_000);

  afterAll(async () => {
    closeAll(socket);
    await procs?.cleanup();
    await hub?.close();
  });

  const run = (args: string[]) => procs.run(args, { hubUrl: hub.url, token, timeoutMs: 60_000 });

  it("ping-peer --list lists the namespace's sessions (GET /api/sessions?limit=&order=updatedAt)", async () => {
    const { exit, output } = await run(['ping-peer', '--list']);
    expect(exit.code, output).toBe(0);
    expect(output).toContain(`${sid}  active=true  flavor=claude  Peer target`);
    expect(output).toContain(`${idleSid}  active=false  flavor=claude  idle`);
  });

  it('inspect-peer <prefix> reads metadata and recent messages (bare GET /api/sessions, detail, messages?limit=)', async () => {
    const { exit, output } = await run(['inspect-peer', sid.slice(0, 8)]);
    expect(exit.code, output).toBe(0);
    expect(output).toContain(`sessionId: ${sid}`);
    expect(output).toContain('name: Peer target');
    expect(output).toContain('flavor: claude');
    expect(output).toContain('active: true');
    expect(output).toContain('lifecycle: running');
    expect(output).toContain('cwd: /work/peer-project');
    expect(output).toContain('[user] please check the build');
    expect(output).toContain('[agent] The build is green.');
  });

  it("ping-peer <prefix> <text> delivers a web prompt to the session's CLI socket", async () => {
    const { exit, output } = await run(['ping-peer', sid.slice(0, 8), 'hello from a peer']);
    expect(exit.code, output).toBe(0);
    expect(output).toContain(`hapi ping-peer: OK - delivered to ${sid}`);
    const update = await nextEvent<{ body: { message: { content: unknown; localId: string | null } } }>(
      socket,
      'update',
      isNewMessage(sid),
    );
    expect(update.body.message.content).toEqual({
      role: 'user',
      content: { type: 'text', text: 'hello from a peer' },
      meta: { sentFrom: 'webapp', deliveryMode: 'queue' },
    });
  });

  it('ping-peer to an inactive session with no runner online fails the resume the way upstream does', async () => {
    const { exit, output } = await run(['ping-peer', idleSid, 'are you there?', '--wait', '2']);
    // PingPeerError('resume_failed') → exit code 3; the hub's {error, code:'no_machine_online'} is shown.
    expect(exit.code, output).toBe(3);
    expect(output).toMatch(/hapi ping-peer:.*resume failed: /);
  });

  it("a prefix of another namespace's session is not found", async () => {
    const other = await procs.run(['inspect-peer', sid.slice(0, 8)], {
      hubUrl: hub.url,
      token: hub.tokenFor('elsewhere'),
      timeoutMs: 60_000,
    });
    expect(other.exit.code, other.output).toBe(2);
    expect(other.output).toContain(`no session matching prefix '${sid.slice(0, 8)}'`);
  });
});
