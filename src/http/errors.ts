// Every response is JSON, including failures nobody planned for.
import type { Context, Next } from 'koa';
import { ZodError } from 'zod';
import { EngineUnavailableError } from '../engine/types.js';
import type { Logger } from '../ops/logger.js';
import { BodyTooLargeError } from './body.js';

export function jsonErrors(log: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: 'Not found', code: 'not_found' };
      } else if (ctx.status === 405 && ctx.body === undefined) {
        // The router's allowedMethods() sets 405 + Allow without a body; Koa would send text.
        ctx.body = { error: 'Method not allowed', code: 'method_not_allowed' };
      }
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        ctx.status = 413;
        ctx.body = { error: error.message, code: 'body_too_large' };
      } else if (error instanceof EngineUnavailableError) {
        ctx.status = 503;
        ctx.body = { error: 'Storage unavailable, try again', code: 'engine_unavailable' };
      } else if (error instanceof ZodError) {
        ctx.status = 400;
        ctx.body = { error: 'Invalid request', issues: error.issues };
      } else {
        log.error({ err: error, path: ctx.path }, 'unhandled request error');
        ctx.status = 500;
        ctx.body = { error: 'Internal server error', code: 'internal_error' };
      }
    }
  };
}
