// GET /api/events and POST /api/visibility (upstream hub/src/web/routes/events.ts). Both run
// behind jwtAuth (hub.ts), which puts the caller's namespace in ctx.state.
import Router from '@koa/router';
import type { Context } from 'koa';
import { readJsonBody } from '../../http/body.js';
import { EventsQuerySchema, VisibilityBodySchema } from '../../protocol/sse.js';
import type { Services } from '../../services/index.js';
import type { ApiState } from '../jwt-auth.js';
import { acceptsGzip } from './accept-encoding.js';
import type { SubscriptionManager } from './subscriptions.js';
import type { SubscriptionDirectory } from './visibility.js';
import { HTTP_ERRORS, sendReply } from '../../http/reply.js';

/** The visibility body is two short strings; anything near this size is not a real client. */
const VISIBILITY_BODY_LIMIT = 16 * 1024;

export interface SseRouteDeps {
  services: Services;
  subscriptions: SubscriptionManager;
  directory: SubscriptionDirectory;
  /** False once the plane is closing: new streams are refused like upstream's missing manager. */
  isOpen(): boolean;
}

function fail(ctx: Context, status: number, error: string): void {
  ctx.status = status;
  ctx.body = { error };
}

export function createSseRouter(deps: SseRouteDeps): Router {
  const router = new Router();

  router.get('/api/events', async (ctx) => {
    const { namespace } = ctx.state as ApiState;
    if (!deps.isOpen()) return fail(ctx, 503, 'Not connected');
    const parsed = EventsQuerySchema.safeParse(ctx.query);
    if (!parsed.success) {
      ctx.status = 400;
      ctx.body = { error: 'Invalid query', issues: parsed.error.issues };
      return;
    }
    const query = parsed.data;

    // Up-front checks, before any byte of the stream (docs/protocol.md#opening-a-stream).
    if (query.sessionId !== undefined) {
      const access = await deps.services.sessions.access(namespace, query.sessionId);
      if (!access.ok) return sendReply(ctx, HTTP_ERRORS.sessionNotFound);
    }
    if (query.machineId !== undefined) {
      const access = await deps.services.machines.access(namespace, query.machineId);
      if (!access.ok) return sendReply(ctx, HTTP_ERRORS.machineNotFound);
    }

    // The EventSource reconnect header wins over the query when it says something.
    const header = ctx.get('last-event-id');
    const cursor = header.trim() !== '' ? header : query.lastEventId;

    await deps.subscriptions.open({
      res: ctx.res,
      filter: { namespace, all: query.all, sessionId: query.sessionId, machineId: query.machineId },
      visibility: query.visibility,
      cursor,
      gzip: acceptsGzip(ctx.get('accept-encoding')),
    });
    // The response is ours from here (streamed, or already answered); Koa must not touch it.
    ctx.respond = false;
  });

  router.post('/api/visibility', async (ctx) => {
    const { namespace } = ctx.state as ApiState;
    const body = VisibilityBodySchema.safeParse(await readJsonBody(ctx, VISIBILITY_BODY_LIMIT));
    if (!body.success) {
      ctx.status = 400;
      ctx.body = { error: 'Invalid body', issues: body.error.issues };
      return;
    }
    const found = await deps.directory.setVisibility(namespace, body.data.subscriptionId, body.data.visibility);
    if (!found) return fail(ctx, 404, 'Subscription not found');
    ctx.body = { ok: true };
  });

  return router;
}
