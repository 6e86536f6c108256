// One HTTP answer: a status and a JSON body. The hub's fixed answers are named in HTTP_ERRORS and
// the services' failures are mapped in failureReply, so every status and text is written once.
import type { Context } from 'koa';
import {
  EngineUnavailableError,
  RpcBadAnswerError,
  RpcTargetMissingError,
  RpcTimeoutError,
  LimitExceededError,
  MachineNotFoundError,
} from '../services/errors.js';

export interface HttpReply {
  status: number;
  body: Record<string, unknown>;
  /** Extra response headers (429's Retry-After). */
  headers?: Record<string, string>;
}

export const ok = (body: Record<string, unknown> = { ok: true }): HttpReply => ({ status: 200, body });
export const fail = (status: number, error: string, extra: Record<string, unknown> = {}): HttpReply => ({
  status,
  body: { error, ...extra },
});

/** Copies a reply onto the response. */
export function sendReply(ctx: Context, reply: HttpReply): void {
  ctx.status = reply.status;
  ctx.body = reply.body;
  for (const [name, value] of Object.entries(reply.headers ?? {})) ctx.set(name, value);
}

/** 429 for a tenant over a limit; Retry-After in whole seconds (docs/protocol.md#limits). */
export function limitReply(error: LimitExceededError): HttpReply {
  const retryAfterMs = error.retryAfterMs ?? 1_000;
  return {
    ...fail(429, error.message, {
      code: error.code,
      reason: error.reason,
      limit: error.limit,
      retryAfterMs,
    }),
    headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  };
}

export const HTTP_ERRORS = {
  missingAuthorizationHeader: fail(401, 'Missing Authorization header'),
  invalidAuthorizationHeader: fail(401, 'Invalid Authorization header'),
  missingAuthorizationToken: fail(401, 'Missing authorization token'),
  invalidToken: fail(401, 'Invalid token'),
  // Ids are per namespace: an id of another namespace gets exactly these answers too.
  sessionNotFound: fail(404, 'Session not found'),
  machineNotFound: fail(404, 'Machine not found'),
  sessionInactive: fail(409, 'Session is inactive', { code: 'session_inactive' }),
  notFound: fail(404, 'Not found', { code: 'not_found' }),
  methodNotAllowed: fail(405, 'Method not allowed', { code: 'method_not_allowed' }),
  storageUnavailable: fail(503, 'Storage unavailable, try again', { code: 'engine_unavailable' }),
  internal: fail(500, 'Internal server error', { code: 'internal_error' }),
} as const satisfies Record<string, HttpReply>;

/**
 * The answer to a failure of the domain's vocabulary (services/errors.ts), or null for anything
 * else. RPC transport failures: 503 `rpc_target_missing`, 504 `rpc_timeout`, 502 `rpc_bad_answer`
 * (docs/protocol.md#rpc-transport-failures); `extra` lets RPC-shaped routes keep `success:false`.
 */
export function failureReply(error: unknown, extra: Record<string, unknown> = {}): HttpReply | null {
  if (error instanceof RpcTargetMissingError) return fail(503, error.message, { ...extra, code: error.code });
  if (error instanceof RpcTimeoutError) return fail(504, error.message, { ...extra, code: error.code });
  if (error instanceof RpcBadAnswerError) return fail(502, error.message, { ...extra, code: error.code });
  if (error instanceof EngineUnavailableError) return HTTP_ERRORS.storageUnavailable;
  if (error instanceof LimitExceededError) return limitReply(error);
  if (error instanceof MachineNotFoundError) return HTTP_ERRORS.machineNotFound;
  return null;
}
