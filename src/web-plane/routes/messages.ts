// Message routes (docs/protocol.md#messages): page, send, cancel, queued-state.
import { MessagesQuerySchema, QueuedStateBodySchema, SendMessageBodySchema } from '../../protocol/web-rest.js';
import { HTTP_ERRORS } from '../../http/reply.js';
import {
  param,
  parseOr400,
  readBody,
  requireSession,
  send,
  sendError,
  type ApiRouter,
  type WebDeps,
} from './common.js';

export function registerMessageRoutes(router: ApiRouter, deps: WebDeps): void {
  const { services, pages } = deps;

  router.get('/api/sessions/:id/messages', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (!row) return;
    const query = parseOr400(ctx, MessagesQuerySchema, ctx.query, 'Invalid query');
    if (query) ctx.body = await pages.page(ctx.state.namespace, row.id, query);
  });

  router.post('/api/sessions/:id/messages', async (ctx) => {
    const row = await requireSession(ctx, deps, { requireActive: true });
    if (!row) return;
    const body = parseOr400(ctx, SendMessageBodySchema, await readBody(ctx, deps), 'Invalid body');
    if (!body) return;
    if (!body.text && (body.attachments === undefined || body.attachments.length === 0)) {
      return sendError(ctx, 400, 'Message requires text or attachments');
    }
    // `scheduledAt` / `deliveryMode` are validated but there is no scheduler or steering here:
    // every prompt is delivered now, as a queued prompt.
    const message = await services.messages.sendFromWeb(ctx.state.namespace, row.id, {
      text: body.text,
      localId: body.localId,
      attachments: body.attachments,
    });
    if (!message) return send(ctx, HTTP_ERRORS.sessionNotFound);
    ctx.body = { ok: true };
  });

  router.post('/api/sessions/:id/messages/queued-state', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (!row) return;
    const body = parseOr400(ctx, QueuedStateBodySchema, await readBody(ctx, deps), 'Invalid body');
    if (body) ctx.body = await pages.queuedState(ctx.state.namespace, row.id, body.localIds);
  });

  router.delete('/api/sessions/:id/messages/:messageId', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (row) ctx.body = await pages.cancel(ctx.state.namespace, row.id, param(ctx, 'messageId'));
  });
}
