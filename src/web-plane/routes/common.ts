// Shared plumbing of the /api routes: the per-request context, upstream's guards
// (docs/protocol.md#guards) and the JSON replies.
import type Router from '@koa/router';
import type { RouterContext } from '@koa/router';
import type { z } from 'zod';
import type { HubConfig } from '../../config.js';
import type { MachineRow, SessionRow } from '../../services/model.js';
import { readJsonBody } from '../../http/body.js';
import type { Logger } from '../../ops/logger.js';
import type { Services } from '../../services/index.js';
import type { MachineActions } from '../use-cases/machine-actions.js';
import type { MessagePages } from '../../services/message-pages.js';
import type { RpcGateway } from '../../services/rpc-gateway.js';
import type { SessionActions } from '../use-cases/session-actions.js';
import type { SessionFiles } from '../use-cases/session-files.js';
import type { WebReply } from '../use-cases/reply.js';
import type { ApiState } from '../jwt-auth.js';
import type { LiveEventSource } from '../live-events.js';
import { HTTP_ERRORS } from '../../http/reply.js';

export type ApiRouter = Router<ApiState>;
export type ApiContext = RouterContext<ApiState>;

/** Everything a route group needs; built once per worker in api-router.ts. */
export interface WebDeps {
  services: Services;
  config: HubConfig;
  live: LiveEventSource;
  log: Logger;
  pages: MessagePages;
  actions: SessionActions;
  machineActions: MachineActions;
  files: SessionFiles;
  rpc: RpcGateway;
}

export function send(ctx: ApiContext, reply: WebReply): void {
  ctx.status = reply.status;
  ctx.body = reply.body;
  for (const [name, value] of Object.entries(reply.headers ?? {})) ctx.set(name, value);
}

/** JSON whatever the value (a CLI may answer with a bare string; Koa would send that as text). */
export function sendJson(ctx: ApiContext, value: unknown): void {
  if (typeof value === 'object' && value !== null) {
    ctx.body = value;
  } else {
    ctx.type = 'application/json';
    ctx.body = JSON.stringify(value ?? null);
  }
}

export function sendError(ctx: ApiContext, status: number, error: string, extra: Record<string, unknown> = {}): void {
  ctx.status = status;
  ctx.body = { error, ...extra };
}

export function param(ctx: ApiContext, name: string): string {
  return ctx.params[name] ?? '';
}

/** Reads the JSON body (malformed or absent → null, as upstream) within the hub's body limit. */
export function readBody(ctx: ApiContext, deps: WebDeps): Promise<unknown> {
  return readJsonBody(ctx, deps.config.maxBodyBytes);
}

/**
 * Parses with `schema`; on failure answers 400 `{error, issues}` (zod issues) and returns
 * undefined. `error` is the route's upstream text ('Invalid body', 'Invalid query', …).
 */
export function parseOr400<S extends z.ZodType>(
  ctx: ApiContext,
  schema: S,
  input: unknown,
  error: string,
): z.infer<S> | undefined {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  sendError(ctx, 400, error, { issues: parsed.error.issues });
  return undefined;
}

/**
 * Upstream requireSession: 404 for an id this namespace does not have (ids are per namespace), and
 * with `requireActive` 409 `session_inactive`. Answers and returns null on failure.
 */
export async function requireSession(
  ctx: ApiContext,
  deps: WebDeps,
  opts: { requireActive?: boolean } = {},
): Promise<SessionRow | null> {
  const access = await deps.services.sessions.access(ctx.state.namespace, param(ctx, 'id'));
  if (!access.ok) {
    send(ctx, HTTP_ERRORS.sessionNotFound);
    return null;
  }
  if (opts.requireActive && access.row.live.active !== true) {
    send(ctx, HTTP_ERRORS.sessionInactive);
    return null;
  }
  return access.row;
}

/**
 * The validated body of a machine route whose use case checks the machine itself (inside its RPC,
 * sharing that call's engine round trip), in the guards' order all the same: a missing machine
 * answers 404 before a bad (400) or unreadable body. Answers and returns undefined on failure.
 */
export async function machineRouteBody<S extends z.ZodType>(
  ctx: ApiContext,
  deps: WebDeps,
  schema: S,
): Promise<z.infer<S> | undefined> {
  let input: unknown;
  try {
    input = await readBody(ctx, deps);
  } catch (error) {
    if (!(await requireMachine(ctx, deps))) return undefined;
    throw error;
  }
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  if (await requireMachine(ctx, deps)) sendError(ctx, 400, 'Invalid body', { issues: parsed.error.issues });
  return undefined;
}

/** 404 for an id this namespace does not have (ids are per namespace: no 403 oracle). */
export async function requireMachine(ctx: ApiContext, deps: WebDeps): Promise<MachineRow | null> {
  const access = await deps.services.machines.access(ctx.state.namespace, param(ctx, 'id'));
  if (!access.ok) {
    send(ctx, HTTP_ERRORS.machineNotFound);
    return null;
  }
  return access.row;
}
