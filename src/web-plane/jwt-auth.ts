// /api/* authentication: Bearer JWT (and `?token=` on /api/events only), as upstream.
import type { Context, Next } from 'koa';
import type { AuthService } from '../services/auth.js';
import { HTTP_ERRORS, sendReply } from '../http/reply.js';

export interface ApiState {
  namespace: string;
  userId: number;
}

const UNAUTHENTICATED_PATHS = new Set(['/api/auth']);

export function jwtAuth(auth: AuthService) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (!ctx.path.startsWith('/api/') || UNAUTHENTICATED_PATHS.has(ctx.path)) {
      await next();
      return;
    }
    const header = ctx.get('authorization');
    let token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    if (!token && ctx.path === '/api/events' && typeof ctx.query.token === 'string') token = ctx.query.token;
    if (!token) {
      sendReply(ctx, HTTP_ERRORS.missingAuthorizationToken);
      return;
    }
    const check = await auth.verifyJwt(token);
    if (!check.ok) {
      ctx.status = 401;
      ctx.body = { error: check.error };
      return;
    }
    const state = ctx.state as ApiState;
    state.namespace = check.namespace;
    state.userId = check.userId;
    await next();
  };
}
