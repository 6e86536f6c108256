// Runs HTTP route cases against a fuzz world over real HTTP: every answer must be JSON (but the
// metrics text and the SSE stream on success), refused input must get a 4xx, nothing answers 5xx
// except the documented RPC/contract statuses, and a 4xx changes nothing that is stored.
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import { expect } from 'vitest';
import { checkAsyncProperty } from './fuzz-run.js';
import type { FuzzTenant, FuzzWorld } from './fuzz-world.js';
import { FRESH, MID, SID } from './event-cases.js';
import { ROUTES, inputIsValid, routeCase, type RouteCase } from './route-cases.js';

export interface HttpAnswer {
  status: number;
  contentType: string;
  text: string;
  json: unknown;
  isJson: boolean;
}

/**
 * 5xx answers that are part of the contract: the RPC statuses of docs/protocol.md#rpc-transport-failures (502 rpc_bad_answer,
 * 503 rpc_target_missing, 504 rpc_timeout), upstream's Telegram 503, resume's upstream codes
 * (503 no_machine_online, 500 resume_failed), and upstream's 500 `{error}` carrying the error
 * the runner itself answered.
 */
export function allowedServerError(answer: HttpAnswer, rpcAnswer: unknown): boolean {
  const body = answer.json as { code?: unknown; error?: unknown } | undefined;
  // restart_unsupported / restart_failed: upstream's answers when the runner cannot restart itself.
  // probe_failed: upstream's cursor-chat-store answer when the machine's probe fails; failed: the
  // CLI's own answer to codex/plan/implement.
  if (answer.status === 502)
    return ['rpc_bad_answer', 'restart_unsupported', 'restart_failed', 'probe_failed', 'failed'].includes(
      String(body?.code),
    );
  if (answer.status === 503) {
    // Upstream's own 503s: no CLI to call, features this hub does not provide (voice, push),
    // history import without an online machine, Telegram login.
    const codes = [
      'rpc_target_missing',
      'no_machine_online',
      'machine_offline',
      'voice_unavailable',
      'push_unavailable',
      // codex/plan/implement whose outcome the CLI could not confirm
      'indeterminate',
    ];
    const error = typeof body?.error === 'string' ? body.error : '';
    return (
      codes.includes(String(body?.code)) ||
      error === 'Telegram authentication is not configured' ||
      error === 'Title suggestions are not configured on this Hub' ||
      error.startsWith('No online machine available for')
    );
  }
  if (answer.status === 504) return body?.code === 'rpc_timeout';
  // cross_host_session: upstream's migrate-to-acp refusal when the hub does not hold the files.
  if (answer.status === 500)
    return (
      body?.code === 'resume_failed' ||
      (answer.json as { reason?: unknown } | undefined)?.reason === 'cross_host_session' ||
      (typeof body?.error === 'string' && body.error === cliErrorOf(rpcAnswer))
    );
  return false;
}

function cliErrorOf(rpcAnswer: unknown): string | undefined {
  let value = rpcAnswer;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return undefined;
    }
  }
  const error = typeof value === 'object' && value !== null ? (value as { error?: unknown }).error : undefined;
  return typeof error === 'string' ? error : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface ResolvedIds {
  sid: string;
  mid: string;
  fresh: string;
  token: string;
}

export function idsOf(tenant: FuzzTenant): ResolvedIds {
  return { sid: tenant.sessionId, mid: tenant.machineId, fresh: randomUUID(), token: tenant.token };
}

function resolveString(value: string, ids: ResolvedIds): string {
  return value.replace(SID, ids.sid).replace(MID, ids.mid).replace(FRESH, ids.fresh).replace('\u0001TOKEN', ids.token);
}

/** Replaces placeholders two levels deep (body fields and `machine.id`). */
export function resolveBody(value: unknown, ids: ResolvedIds, level = 0): unknown {
  if (typeof value === 'string') return resolveString(value, ids);
  if (level > 1 || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveBody(v, ids, level + 1)]));
}

const SAFE_RAW = /^[^/?#%\s]*$/;
/** encodeURIComponent throws on lone surrogates; a URL cannot carry them anyway. */
const encode = (value: string): string => encodeURIComponent(value.replace(/[\uD800-\uDFFF]/gu, '\uFFFD'));

export function urlOf(base: string, c: RouteCase, ids: ResolvedIds): string {
  const template = c.route.slice(c.route.indexOf(' ') + 1);
  const path = template.replace(/:(\w+)|\{\*(\w+)\}/g, (_match, name?: string, rest?: string) => {
    const value = resolveString(c.params[(name ?? rest) as string] ?? '', ids);
    if (rest !== undefined)
      return value
        .split('/')
        .map((part) => (c.rawPath && SAFE_RAW.test(part) ? part : encode(part)))
        .join('/');
    return c.rawPath && SAFE_RAW.test(value) ? value : encode(value);
  });
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(c.query)) {
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, resolveString(item, ids));
  }
  const query = params.toString();
  return `${base}${path}${query ? `?${query}` : ''}`;
}

export async function sendCase(
  base: string,
  c: RouteCase,
  tenant: FuzzTenant,
  ids: ResolvedIds,
): Promise<{ answer: HttpAnswer; body: unknown }> {
  const spec = ROUTES[c.route];
  if (!spec) throw new Error(`unknown route ${c.route}`);
  const method = c.method ?? c.route.slice(0, c.route.indexOf(' '));
  const headers: Record<string, string> = {};
  const secret = spec.auth === 'jwt' ? tenant.jwt : tenant.token;
  if (c.credentials === 'ok') headers.authorization = `Bearer ${secret}`;
  else if (c.credentials === 'garbage') headers.authorization = 'Bearer not-a-token';
  else if (c.credentials === 'other-scheme') headers.authorization = `Basic ${Buffer.from('a:b').toString('base64')}`;
  let payload: string | undefined;
  let body: unknown = null;
  if (c.body.kind === 'json') {
    body = resolveBody(c.body.value, ids);
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  } else if (c.body.kind === 'text') {
    payload = c.body.text;
    headers['content-type'] = c.body.contentType;
    try {
      body = JSON.parse(c.body.text) as unknown;
    } catch {
      body = null;
    }
  }
  const withBody = payload !== undefined && method !== 'GET' && method !== 'HEAD';
  if (!withBody) body = null;
  const answer = await rawRequest(urlOf(base, c, ids), method, headers, withBody ? payload : undefined);
  return { answer, body };
}

// node:http with a keep-alive agent: fetch's per-request overhead dominated the suite's time.
const agent = new Agent({ keepAlive: true, maxSockets: 4 });
const REQUEST_TIMEOUT_MS = 15_000;

/** One request; an SSE answer is cut after its headers. Bounded by REQUEST_TIMEOUT_MS. */
export function rawRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  payload?: string,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const data = payload !== undefined ? Buffer.from(payload, 'utf8') : undefined;
    const req = request(
      url,
      {
        method,
        agent,
        headers: { ...headers, ...(data ? { 'content-length': String(data.length) } : {}) },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const contentType = String(res.headers['content-type'] ?? '');
        const status = res.statusCode ?? 0;
        if (contentType.includes('text/event-stream')) {
          res.destroy();
          resolve({ status, contentType, text: '', json: undefined, isJson: false });
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          let isJson = false;
          if (contentType.includes('application/json')) {
            try {
              json = JSON.parse(text) as unknown;
              isJson = true;
            } catch {
              isJson = false;
            }
          }
          resolve({ status, contentType, text, json, isJson });
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms: ${method} ${url.slice(0, 200)}`)),
    );
    req.on('error', reject);
    req.end(data);
  });
}

/**
 * True when a path parameter names an object that cannot exist: a never-existing id, or a machine
 * id where a session id belongs (and the reverse). Other strings may name objects earlier cases
 * created, so they prove nothing.
 */
function paramsMissObjects(c: RouteCase): boolean {
  const spec = ROUTES[c.route];
  for (const [name, kind] of Object.entries(spec?.params ?? {})) {
    const value = c.params[name];
    if (value === FRESH) return true;
    if (kind === 'session' && value === MID) return true;
    if (kind === 'machine' && value === SID) return true;
  }
  return false;
}

/** Checks one answer against the rules; returns what was expected, for messages. */
export function checkAnswer(c: RouteCase, answer: HttpAnswer, body: unknown, label: string): void {
  const spec = ROUTES[c.route];
  if (!spec) throw new Error(`unknown route ${c.route}`);
  // Built only on failure: a case can carry a 60 KB body.
  const context = () => `${label}: ${c.method ?? ''} ${c.route} → ${answer.status} ${answer.text.slice(0, 200)}`;
  const success = answer.status >= 200 && answer.status < 300;
  if (!(success && spec.nonJson) && answer.status !== 204 && !answer.isJson) throw new Error(`not JSON: ${context()}`);
  if (answer.status >= 500 && !allowedServerError(answer, c.rpcAnswer)) throw new Error(`server error: ${context()}`);
  if (spec.auth !== 'none' && c.credentials !== 'ok') {
    if (answer.status !== 401) throw new Error(`bad credentials not answered 401: ${context()}`);
    return;
  }
  // Upstream's file/git routes refuse a session without `metadata.path` before validating the
  // query, with 200 `{success:false}` (docs/protocol.md#files-and-git): a refusal in upstream's shape.
  const upstreamRefusal =
    answer.status === 200 &&
    isRecord(answer.json) &&
    answer.json.success === false &&
    answer.json.error === 'Session path not available';
  if (
    (answer.status < 400 || answer.status >= 500) &&
    !upstreamRefusal &&
    (!inputIsValid(c, body) || paramsMissObjects(c))
  ) {
    throw new Error(`refusable input not refused with a 4xx: ${context()}`);
  }
}

export const timing = { restore: 0, snapshot: 0, send: 0 };

export async function fuzzRoutes(world: FuzzWorld, routes: readonly string[], runsPerRoute: number): Promise<void> {
  const { alice, bob } = world;
  const bobBefore = await world.snapshot(bob.ns);
  const bobRpc = bob.rpcLog.length;
  const bobUpdates = bob.updates.length;
  for (const route of routes) {
    await checkAsyncProperty(
      `route ${route}`,
      routeCase(route),
      async (c) => {
        const t0 = performance.now();
        await world.restore(alice);
        world.answers.next = c.rpcAnswer;
        const ids = idsOf(alice);
        const t1 = performance.now();
        const before = await world.snapshot(alice.ns);
        const t2 = performance.now();
        const { answer, body } = await sendCase(world.t.url, c, alice, ids);
        const t3 = performance.now();
        timing.restore += t1 - t0;
        timing.snapshot += t2 - t1;
        timing.send += t3 - t2;
        checkAnswer(c, answer, body, 'alice');
        if (answer.status >= 400 && answer.status < 500) {
          const after = await world.snapshot(alice.ns);
          if (!isDeepStrictEqual(after, before))
            expect(
              after,
              `refused (${answer.status}) but state changed: ${c.route} ${answer.text.slice(0, 200)}`,
            ).toEqual(before);
        }
      },
      runsPerRoute,
    );
  }
  expect(await world.healthy()).toBe(true);
  expect(await world.snapshot(bob.ns)).toEqual(bobBefore);
  expect(bob.rpcLog.slice(bobRpc), 'RPC requests reached the other tenant').toEqual([]);
  expect(bob.updates.slice(bobUpdates), 'updates reached the other tenant').toEqual([]);
}
