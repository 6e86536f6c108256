// /cli/* REST: raw access-token bearer auth, then one service call per route.
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { CliMessagesQuerySchema, CreateMachineBodySchema, CreateSessionBodySchema } from '../protocol/cli-rest.js';
import { readJsonBody } from '../http/body.js';
import { invalidInputReply } from '../http/invalid-input.js';
import { HTTP_ERRORS, fail, sendReply } from '../http/reply.js';
import type { Services } from '../services/index.js';

export interface CliRouteState {
  namespace: string;
}

const PROTOCOL_VERSION = '1';

export function createCliRouter(services: Services, maxBodyBytes: number): Router<CliRouteState> {
  const router = new Router<CliRouteState>({ prefix: '/cli' });

  router.use(async (ctx: Context, next: Next) => {
    ctx.set('X-Hapi-Protocol-Version', PROTOCOL_VERSION);
    const header = ctx.get('authorization');
    if (!header) {
      sendReply(ctx, HTTP_ERRORS.missingAuthorizationHeader);
      return;
    }
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match?.[1]) {
      sendReply(ctx, HTTP_ERRORS.invalidAuthorizationHeader);
      return;
    }
    const check = await services.auth.verifyAccessToken(match[1]);
    if (!check.ok) {
      sendReply(ctx, HTTP_ERRORS.invalidToken);
      return;
    }
    (ctx.state as CliRouteState).namespace = check.namespace;
    await next();
  });

  router.post('/sessions', async (ctx) => {
    const parsed = CreateSessionBodySchema.safeParse(await readJsonBody(ctx, maxBodyBytes));
    if (!parsed.success) {
      sendReply(ctx, invalidInputReply('Invalid body', parsed.error.issues));
      return;
    }
    const outcome = await services.sessions.createOrLoad(ctx.state.namespace, parsed.data);
    if (!outcome.ok) {
      sendReply(ctx, fail(outcome.status, outcome.error));
      return;
    }
    // The hub setting (GET/PUT /api/hub-settings) the CLI applies to its agent, as upstream.
    const { sessionSummaryContract } = await services.hubSettings.get();
    ctx.body = { session: outcome.session, sessionSummaryContract };
  });

  router.get('/sessions/:id', async (ctx) => {
    const result = await services.sessions.get(ctx.state.namespace, ctx.params.id ?? '');
    if (!result.ok) {
      sendReply(ctx, HTTP_ERRORS.sessionNotFound);
      return;
    }
    const { sessionSummaryContract } = await services.hubSettings.get();
    ctx.body = { session: result.session, sessionSummaryContract };
  });

  router.get('/sessions/:id/messages', async (ctx) => {
    const sid = ctx.params.id ?? '';
    const access = await services.sessions.access(ctx.state.namespace, sid);
    if (!access.ok) {
      sendReply(ctx, HTTP_ERRORS.sessionNotFound);
      return;
    }
    const query = CliMessagesQuerySchema.safeParse(ctx.query);
    if (!query.success) {
      sendReply(ctx, fail(400, 'Invalid query', { issues: query.error.issues }));
      return;
    }
    const messages = await services.messages.listAfterSeq(
      ctx.state.namespace,
      sid,
      query.data.afterSeq,
      query.data.limit,
    );
    ctx.body = { messages };
  });

  router.post('/machines', async (ctx) => {
    const parsed = CreateMachineBodySchema.safeParse(await readJsonBody(ctx, maxBodyBytes));
    if (!parsed.success) {
      sendReply(ctx, invalidInputReply('Invalid body', parsed.error.issues));
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
      sendReply(ctx, HTTP_ERRORS.machineNotFound);
      return;
    }
    ctx.body = { machine: result.machine };
  });

  // Unknown /cli/* paths go through the auth and header middleware like every /cli route (as
  // upstream's `/cli/*` middleware), then answer a JSON 404 — or 405 when only the method is wrong.
  router.all('/{*rest}', (ctx) => {
    const allowed = new Set(
      (ctx.matched ?? []).filter((layer) => !String(layer.path).endsWith('{*rest}')).flatMap((layer) => layer.methods),
    );
    if (allowed.size > 0) {
      ctx.set('Allow', [...allowed].join(', '));
      sendReply(ctx, HTTP_ERRORS.methodNotAllowed);
      return;
    }
    sendReply(ctx, HTTP_ERRORS.notFound);
  });

  return router;
}
