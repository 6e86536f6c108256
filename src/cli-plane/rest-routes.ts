// /cli/* REST: raw access-token bearer auth, then one service call per route.
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { CliMessagesQuerySchema, CreateMachineBodySchema, CreateSessionBodySchema } from '../protocol/cli-rest.js';
import { readJsonBody } from '../http/body.js';
import { invalidInputReply } from '../http/invalid-input.js';
import type { AccessFailure } from '../services/access.js';
import type { Services } from '../services/index.js';

export interface CliRouteState {
  namespace: string;
}

const PROTOCOL_VERSION = '1';

/** Ids are per namespace: an id this namespace does not have is simply not found. */
function accessBody(scope: 'Session' | 'Machine', _reason: AccessFailure): { status: number; body: { error: string } } {
  return { status: 404, body: { error: `${scope} not found` } };
}

export function createCliRouter(services: Services, maxBodyBytes: number): Router<CliRouteState> {
  const router = new Router<CliRouteState>({ prefix: '/cli' });

  router.use(async (ctx: Context, next: Next) => {
    ctx.set('X-Hapi-Protocol-Version', PROTOCOL_VERSION);
    const header = ctx.get('authorization');
    if (!header) {
      ctx.status = 401;
      ctx.body = { error: 'Missing Authorization header' };
      return;
    }
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match?.[1]) {
      ctx.status = 401;
      ctx.body = { error: 'Invalid Authorization header' };
      return;
    }
    const check = await services.auth.verifyAccessToken(match[1]);
    if (!check.ok) {
      ctx.status = 401;
      ctx.body = { error: 'Invalid token' };
      return;
    }
    (ctx.state as CliRouteState).namespace = check.namespace;
    await next();
  });

  router.post('/sessions', async (ctx) => {
    const parsed = CreateSessionBodySchema.safeParse(await readJsonBody(ctx, maxBodyBytes));
    if (!parsed.success) {
      const reply = invalidInputReply('Invalid body', parsed.error.issues);
      ctx.status = reply.status;
      ctx.body = reply.body;
      return;
    }
    const outcome = await services.sessions.createOrLoad(ctx.state.namespace, parsed.data);
    if (!outcome.ok) {
      ctx.status = outcome.status;
      ctx.body = { error: outcome.error };
      return;
    }
    ctx.body = { session: outcome.session, sessionSummaryContract: false };
  });

  router.get('/sessions/:id', async (ctx) => {
    const result = await services.sessions.get(ctx.state.namespace, ctx.params.id ?? '');
    if (!result.ok) {
      const { status, body } = accessBody('Session', result.reason);
      ctx.status = status;
      ctx.body = body;
      return;
    }
    ctx.body = { session: result.session, sessionSummaryContract: false };
  });

  router.get('/sessions/:id/messages', async (ctx) => {
    const sid = ctx.params.id ?? '';
    const access = await services.sessions.access(ctx.state.namespace, sid);
    if (!access.ok) {
      const { status, body } = accessBody('Session', access.reason);
      ctx.status = status;
      ctx.body = body;
      return;
    }
    const query = CliMessagesQuerySchema.safeParse(ctx.query);
    if (!query.success) {
      ctx.status = 400;
      ctx.body = { error: 'Invalid query', issues: query.error.issues };
      return;
    }
    const messages = await services.messages.listAfterSeq(ctx.state.namespace, sid, query.data.afterSeq, query.data.limit);
    ctx.body = { messages };
  });

  router.post('/machines', async (ctx) => {
    const parsed = CreateMachineBodySchema.safeParse(await readJsonBody(ctx, maxBodyBytes));
    if (!parsed.success) {
      const reply = invalidInputReply('Invalid body', parsed.error.issues);
      ctx.status = reply.status;
      ctx.body = reply.body;
      return;
    }
    const machine = await services.machines.createOrLoad(ctx.state.namespace, {
      id: parsed.data.id,
      metadata: parsed.data.metadata ?? null,
      runnerState: parsed.data.runnerState ?? null,
    });
    ctx.body = { machine };
  });

  router.get('/machines/:id', async (ctx) => {
    const result = await services.machines.get(ctx.state.namespace, ctx.params.id ?? '');
    if (!result.ok) {
      const { status, body } = accessBody('Machine', result.reason);
      ctx.status = status;
      ctx.body = body;
      return;
    }
    ctx.body = { machine: result.machine };
  });

  // Unknown /cli/* paths go through the auth and header middleware like every /cli route (as
  // upstream's `/cli/*` middleware), then answer a JSON 404 — or 405 when only the method is wrong.
  router.all('/{*rest}', (ctx) => {
    const allowed = new Set((ctx.matched ?? []).filter((layer) => !String(layer.path).endsWith('{*rest}')).flatMap((layer) => layer.methods));
    if (allowed.size > 0) {
      ctx.status = 405;
      ctx.set('Allow', [...allowed].join(', '));
      ctx.body = { error: 'Method not allowed', code: 'method_not_allowed' };
      return;
    }
    ctx.status = 404;
    ctx.body = { error: 'Not found', code: 'not_found' };
  });

  return router;
}
