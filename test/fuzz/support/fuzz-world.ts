// A real hub (memory engine, or Redis when asked) with two tenants for the fuzz suite:
// `alice` is the one the fuzzer drives; `bob` is a bystander/victim whose state must never move.
// Each tenant has a live session whose CLI socket serves every session RPC method, a machine whose
// runner socket serves every machine RPC method (both answer with whatever `answers.next` holds,
// so RPC answers are fuzzed too), a stored message and a queued web prompt.
import type { Socket } from 'socket.io-client';
import { createRedisEngine } from '../../../src/engine/redis/engine.js';
import type { Engine } from '../../../src/engine/engine.js';
import type { EngineOptions } from '../../../src/engine/types.js';
import { cliRest, connectCli, httpJson, pingBarrier, type CliRest } from '../../helpers/cli-client.js';
import { createMachine, createSession, uniqueNamespace } from '../../helpers/fixtures.js';
import { startTestHub, type TestHub } from '../../helpers/hub.js';
import { DEFAULT_LIMIT_SETTINGS, LIMIT_NAMES, type LimitSettings } from '../../../src/config/limits.js';

const UNLIMITED: LimitSettings = {
  ...DEFAULT_LIMIT_SETTINGS,
  defaults: Object.fromEntries(LIMIT_NAMES.map((name) => [name, 1e12])) as LimitSettings['defaults'],
};
import { getTestRedisUrl } from '../../helpers/redis-server.js';
import { loginWeb } from '../../helpers/web-api.js';

export const SESSION_RPC_METHODS = [
  'abort',
  'permission',
  'set-session-config',
  'killSession',
  'git-status',
  'git-diff-numstat',
  'git-diff-file',
  'readFile',
  'readGeneratedImage',
  'listDirectory',
  'ripgrep',
  'statFiles',
  'uploadFile',
  'deleteUpload',
  'listSlashCommands',
  'listSkills',
] as const;
export const MACHINE_RPC_METHODS = ['spawn-happy-session', 'list-directory', 'path-exists'] as const;

/** What the fake CLIs answer to the next RPC requests (raw ack value: usually a JSON string). */
export interface AnswerBox {
  next: unknown;
}

export interface RpcLogEntry {
  method: string;
  from: 'session' | 'machine';
}

export interface FuzzTenant {
  ns: string;
  token: string;
  jwt: string;
  rest: CliRest;
  sessionId: string;
  machineId: string;
  cli: Socket;
  runner: Socket;
  /** RPC requests the tenant's CLI/runner received. */
  rpcLog: RpcLogEntry[];
  /** `update` events the tenant's sockets received. */
  updates: unknown[];
}

export interface FuzzWorld {
  t: TestHub;
  engine: Engine;
  alice: FuzzTenant;
  bob: FuzzTenant;
  answers: AnswerBox;
  /** Re-creates what fuzzed requests may have removed or ended (session, machine, liveness). */
  restore(tenant: FuzzTenant): Promise<void>;
  /** Everything the engine holds for `ns` (rows, messages, queued prompts, event log head). */
  snapshot(ns: string): Promise<unknown>;
  /** GET /health answers 200 `{status:'ok'}`. */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

const ENGINE_OPTIONS: EngineOptions = {
  eventLogMaxEvents: 100_000,
  eventLogMaxBytes: 256 * 1024 * 1024,
  messageHistoryLimit: 0,
};

export async function startFuzzWorld(options: { redis?: boolean } = {}): Promise<FuzzWorld> {
  let stopRedis: () => Promise<void> = async () => undefined;
  let ownEngine: Engine | undefined;
  if (options.redis) {
    const redis = await getTestRedisUrl();
    stopRedis = redis.stop;
    ownEngine = await createRedisEngine(redis.url, ENGINE_OPTIONS);
  }
  const t = await startTestHub({
    rpcTimeoutMs: 1_000,
    rpcLongTimeoutMs: 1_000,
    // The fuzzers send thousands of events a second on one socket; limits have their own suite.
    limits: UNLIMITED,
    ...(ownEngine ? { engine: ownEngine } : {}),
  });
  const answers: AnswerBox = { next: JSON.stringify({ ok: true }) };
  const sockets: Socket[] = [];

  const attachCli = async (tenant: FuzzTenant): Promise<void> => {
    tenant.cli?.close();
    const cli = await connectCli(t.url, { token: tenant.token, sessionId: tenant.sessionId });
    sockets.push(cli);
    cli.on('rpc-request', (request: { method?: unknown }, ack: (answer: unknown) => void) => {
      tenant.rpcLog.push({ method: String(request?.method), from: 'session' });
      ack(answers.next);
    });
    cli.on('update', (update: unknown) => tenant.updates.push(update));
    for (const name of SESSION_RPC_METHODS) cli.emit('rpc-register', { method: `${tenant.sessionId}:${name}` });
    cli.emit('session-alive', { sid: tenant.sessionId, time: t.clock.now, thinking: false });
    await pingBarrier(cli);
    tenant.cli = cli;
  };
  const attachRunner = async (tenant: FuzzTenant): Promise<void> => {
    tenant.runner?.close();
    const runner = await connectCli(t.url, { token: tenant.token, machineId: tenant.machineId });
    sockets.push(runner);
    runner.on('rpc-request', (request: { method?: unknown }, ack: (answer: unknown) => void) => {
      tenant.rpcLog.push({ method: String(request?.method), from: 'machine' });
      ack(answers.next);
    });
    runner.on('update', (update: unknown) => tenant.updates.push(update));
    for (const name of MACHINE_RPC_METHODS) runner.emit('rpc-register', { method: `${tenant.machineId}:${name}` });
    runner.emit('machine-alive', { machineId: tenant.machineId, time: t.clock.now });
    await pingBarrier(runner);
    tenant.runner = runner;
  };

  const makeTenant = async (prefix: string): Promise<FuzzTenant> => {
    const ns = uniqueNamespace(prefix);
    const token = t.tokenFor(ns);
    const rest = cliRest(t.url, token);
    const tenant = {
      ns,
      token,
      rest,
      jwt: await loginWeb(t.url, token),
      rpcLog: [],
      updates: [],
    } as unknown as FuzzTenant;
    const session = await createSession(rest, {
      agentState: { requests: { req1: { tool: 'Bash', arguments: { command: 'ls' }, createdAt: t.clock.now } } },
    });
    const machine = await createMachine(rest, { runnerState: { status: 'running' } });
    tenant.sessionId = session.id;
    tenant.machineId = machine.id;
    await attachCli(tenant);
    await attachRunner(tenant);
    tenant.cli.emit('message', {
      sid: session.id,
      message: { role: 'agent', content: { type: 'text', text: `${prefix} private` } },
    });
    await pingBarrier(tenant.cli);
    await t.hub.services.messages.sendFromWeb(ns, session.id, { text: `${prefix} queued`, localId: `${prefix}-local` });
    // The prompt is pushed to the CLI: let that update arrive before anyone counts updates.
    await pingBarrier(tenant.cli);
    return tenant;
  };

  const alice = await makeTenant('fuzz-alice');
  const bob = await makeTenant('fuzz-bob');
  const engine = t.engine;

  const restore = async (tenant: FuzzTenant): Promise<void> => {
    const sessions = await engine.sessions.list(tenant.ns);
    const session = sessions.find((row) => row.id === tenant.sessionId);
    if (!session) {
      tenant.sessionId = (await createSession(tenant.rest)).id;
      await attachCli(tenant);
    } else if (!tenant.cli.connected) {
      await attachCli(tenant);
    } else if (session.live.active !== true) {
      tenant.cli.emit('session-alive', { sid: tenant.sessionId, time: t.clock.now, thinking: false });
      await pingBarrier(tenant.cli);
    }
    const machines = await engine.machines.list(tenant.ns);
    const machine = machines.find((row) => row.id === tenant.machineId);
    if (!machine) {
      tenant.machineId = (await createMachine(tenant.rest, { runnerState: { status: 'running' } })).id;
      await attachRunner(tenant);
    } else if (!tenant.runner.connected) {
      await attachRunner(tenant);
    } else if (machine.live.active !== true) {
      tenant.runner.emit('machine-alive', { machineId: tenant.machineId, time: t.clock.now });
      await pingBarrier(tenant.runner);
    }
  };

  // Rows (with their live fields) and the event log head: every stored change moves one of these
  // (message appends, consumption and cancellation all append an event to the namespace's log).
  const snapshot = async (ns: string): Promise<unknown> => {
    const sessions = (await engine.sessions.list(ns)).sort((a, b) => a.id.localeCompare(b.id));
    const machines = (await engine.machines.list(ns)).sort((a, b) => a.id.localeCompare(b.id));
    const events = await engine.events.read(ns, Number.MAX_SAFE_INTEGER);
    return { sessions, machines, events: { epoch: events.epoch, nextOffset: events.nextOffset } };
  };

  return {
    t,
    engine,
    alice,
    bob,
    answers,
    restore,
    snapshot,
    async healthy() {
      const res = await httpJson(`${t.url}/health`);
      return res.status === 200 && (res.body as { status?: unknown }).status === 'ok';
    },
    async close() {
      for (const socket of sockets) socket.close();
      await t.close();
      if (ownEngine) await ownEngine.close();
      await stopRedis();
    },
  };
}
