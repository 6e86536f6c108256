// Attachment uploads through the session's CLI (docs/protocol.md#uploads); both require active.
import { UploadBodySchema, UploadDeleteBodySchema } from '../../protocol/web-rest.js';
import { parseOr400, readBody, requireSession, send, type ApiRouter, type WebDeps } from './common.js';

export function registerUploadRoutes(router: ApiRouter, deps: WebDeps): void {
  const { files } = deps;

  router.post('/api/sessions/:id/upload', async (ctx) => {
    const row = await requireSession(ctx, deps, { requireActive: true });
    if (!row) return;
    const body = parseOr400(ctx, UploadBodySchema, await readBody(ctx, deps), 'Invalid body');
    if (body) send(ctx, await files.upload(row.namespace, row.id, body));
  });

  router.post('/api/sessions/:id/upload/delete', async (ctx) => {
    const row = await requireSession(ctx, deps, { requireActive: true });
    if (!row) return;
    const body = parseOr400(ctx, UploadDeleteBodySchema, await readBody(ctx, deps), 'Invalid body');
    if (body) send(ctx, await files.deleteUpload(row.namespace, row.id, body.path));
  });
}
