// /api/sessions/:id/scratchlist* (docs/protocol.md#scratchlist). The session must exist in the
// caller's namespace; it need not be active (notes outlive the CLI).
import {
  CreateEntryBodySchema,
  UpdateEntryBodySchema,
  UploadBodySchema,
  type ScratchlistUseCase,
} from '../use-cases/scratchlist.js';
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

export function registerScratchlistRoutes(router: ApiRouter, deps: WebDeps, scratchlist: ScratchlistUseCase): void {
  router.get('/api/sessions/:id/scratchlist', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (row) ctx.body = { entries: await scratchlist.list(row.namespace, row.id) };
  });

  router.post('/api/sessions/:id/scratchlist', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (!row) return;
    const body = parseOr400(ctx, CreateEntryBodySchema, await readBody(ctx, deps), 'Invalid body');
    if (body) send(ctx, await scratchlist.create(row.namespace, row.id, body));
  });

  router.post('/api/sessions/:id/scratchlist/upload', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (!row) return;
    const parsed = UploadBodySchema.safeParse(await readBody(ctx, deps));
    if (!parsed.success) return sendError(ctx, 400, 'Invalid body');
    send(ctx, await scratchlist.upload(row.namespace, row.id, parsed.data));
  });

  router.get('/api/sessions/:id/scratchlist/attachments/:attachmentId', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (!row) return;
    const file = await scratchlist.download(row.namespace, row.id, param(ctx, 'attachmentId'));
    if (!file) return sendError(ctx, 404, 'Attachment not found');
    ctx.type = file.mimeType;
    ctx.set('Content-Disposition', `inline; filename="${encodeURIComponent(file.filename)}"`);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = file.bytes;
  });

  router.delete('/api/sessions/:id/scratchlist/attachments/:attachmentId', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (row) send(ctx, await scratchlist.removeAttachment(row.namespace, row.id, param(ctx, 'attachmentId')));
  });

  router.put('/api/sessions/:id/scratchlist/:entryId', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (!row) return;
    const body = parseOr400(ctx, UpdateEntryBodySchema, await readBody(ctx, deps), 'Invalid body');
    if (body) send(ctx, await scratchlist.update(row.namespace, row.id, param(ctx, 'entryId'), body));
  });

  router.delete('/api/sessions/:id/scratchlist/:entryId', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (row) send(ctx, await scratchlist.remove(row.namespace, row.id, param(ctx, 'entryId')));
  });
}
