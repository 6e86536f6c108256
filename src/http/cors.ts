// CORS for /health, /api/* and /cli/* with upstream's allowed methods and headers.
import type { Context, Next } from 'koa';

export function isOriginAllowed(origin: string | undefined, allowed: string[] | '*'): boolean {
  return origin === undefined || allowed === '*' || allowed.includes(origin);
}

export function cors(allowed: string[] | '*') {
  return async (ctx: Context, next: Next): Promise<void> => {
    const origin = ctx.get('origin') || undefined;
    if (origin !== undefined && isOriginAllowed(origin, allowed)) {
      ctx.set('Access-Control-Allow-Origin', allowed === '*' ? '*' : origin);
      if (allowed !== '*') ctx.vary('Origin');
    }
    if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method')) {
      ctx.set('Access-Control-Allow-Methods', 'GET,POST,PUT,PATCH,DELETE,OPTIONS');
      ctx.set('Access-Control-Allow-Headers', 'authorization,content-type,last-event-id');
      ctx.status = 204;
      return;
    }
    await next();
  };
}
