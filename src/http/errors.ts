// Every response is JSON, including failures nobody planned for — and including failures while
// the response is being written: object bodies are serialised here, inside the error handling,
// rather than by Koa after the middleware chain (where a failure becomes a plain-text 500), and
// Koa's own last-resort handler (ctx.onerror) is replaced by one that answers JSON too. Every
// unplanned failure is one JSON log line, rate-limited per connection.
import type Koa from 'koa';
import type { Context, Next } from 'koa';
import { ZodError } from 'zod';
import type { ErrorLogLimiter } from '../ops/error-log-limiter.js';
import { BodyTooLargeError } from './body.js';
import { HTTP_ERRORS, fail, failureReply, sendReply, type HttpReply } from './reply.js';

/** Errors that carry their own 4xx status (http-errors, ctx.throw): a client's mistake. */
function clientStatusOf(error: unknown): number | null {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500 ? status : null;
}

/** The JSON answer for a thrown error; null when it is unplanned (logged, then 500). */
function plannedReply(error: unknown): HttpReply | null {
  if (error instanceof BodyTooLargeError) return fail(413, error.message, { code: 'body_too_large' });
  if (error instanceof ZodError) return fail(400, 'Invalid request', { code: 'invalid_request', issues: error.issues });
  // The domain's failures a route did not translate itself (docs/protocol.md#rpc-transport-failures).
  const failure = failureReply(error);
  if (failure !== null) return failure;
  const status = clientStatusOf(error);
  if (status !== null) {
    const message =
      error instanceof Error && (error as { expose?: unknown }).expose === true ? error.message : 'Bad request';
    return fail(status, message, { code: 'bad_request' });
  }
  return null;
}

function isPlainJsonBody(body: unknown): body is object {
  if (typeof body !== 'object' || body === null) return false;
  if (Array.isArray(body)) return true;
  const proto: unknown = Object.getPrototypeOf(body);
  return proto === Object.prototype || proto === null;
}

/** The client went away mid-response: nothing to answer and nothing worth a log line. */
function isConnectionGone(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED' || code === 'ERR_STREAM_PREMATURE_CLOSE';
}

function logUnplanned(limiter: ErrorLogLimiter, ctx: Context, error: unknown, message: string): void {
  limiter.error(ctx.req.socket, 'http', { err: error, method: ctx.method, path: ctx.path }, message);
}

export function jsonErrors(limiter: ErrorLogLimiter) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        sendReply(ctx, HTTP_ERRORS.notFound);
      } else if (ctx.status === 405 && ctx.body === undefined) {
        // The router's allowedMethods() sets 405 + Allow without a body; Koa would send text.
        ctx.body = HTTP_ERRORS.methodNotAllowed.body;
      } else if (ctx.method === 'OPTIONS' && ctx.status === 200 && ctx.body === '') {
        // The routers' allowedMethods() answer OPTIONS with 200 + Allow and an empty text body:
        // that is a 204 (no content), not a text response.
        ctx.status = 204;
      }
      if (isPlainJsonBody(ctx.body)) {
        // Serialised here so that a value JSON.stringify cannot handle fails inside this try.
        const text = JSON.stringify(ctx.body);
        ctx.body = text;
        ctx.type = 'application/json';
      }
    } catch (error) {
      let reply = plannedReply(error);
      if (reply === null) {
        logUnplanned(limiter, ctx, error, 'unhandled request error');
        reply = HTTP_ERRORS.internal;
      }
      if (ctx.headerSent || !ctx.writable) return;
      ctx.status = reply.status;
      ctx.body = JSON.stringify(reply.body);
      ctx.type = 'application/json';
      for (const [name, value] of Object.entries(reply.headers ?? {})) ctx.set(name, value);
    }
  };
}

/**
 * Koa's fallbacks, for what happens outside the middleware chain (writing the response, a
 * stream body failing): answer JSON when headers are not sent yet, and log one JSON line (Koa's
 * default prints a multi-line stack to stderr).
 */
export function installJsonFallbacks(app: Koa, limiter: ErrorLogLimiter): void {
  app.on('error', (error: unknown, ctx?: Context) => {
    if (ctx) logUnplanned(limiter, ctx, error, 'request failed outside the route');
  });
  // Koa may report one failure twice (the stream pipeline, then the response's on-finished).
  const reported = new WeakSet<Context>();
  app.context.onerror = function jsonOnError(this: Context, error: unknown): void {
    if (error === null || error === undefined || reported.has(this)) return;
    reported.add(this);
    const planned = plannedReply(error);
    if (planned === null && !isConnectionGone(error)) this.app.emit('error', error, this);
    const res = this.res;
    if (this.headerSent || !this.writable || res.headersSent) {
      if (!res.writableEnded) res.destroy();
      return;
    }
    const reply = planned ?? HTTP_ERRORS.internal;
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    const text = JSON.stringify(reply.body);
    res.statusCode = reply.status;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(text);
  };
}
