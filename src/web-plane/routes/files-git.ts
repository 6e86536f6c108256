// RPC-wrapped session file/git routes and command/skill listings (docs/protocol.md#files-and-git). The session
// need not be active; a session without `metadata.path` answers `{success:false}` before any
// query validation, as upstream.
import type { SessionRow } from '../../services/model.js';
import {
  DirectoryQuerySchema,
  FilePathQuerySchema,
  FileSearchQuerySchema,
  GitDiffNumstatQuerySchema,
  flavorOf,
} from '../../protocol/web-rest.js';
import { GENERATED_IMAGE_CACHE_CONTROL } from '../use-cases/session-files.js';
import {
  param,
  parseOr400,
  requireSession,
  sendError,
  sendJson,
  type ApiContext,
  type ApiRouter,
  type WebDeps,
} from './common.js';

function metadataOf(row: SessionRow): Record<string, unknown> | null {
  return typeof row.metadata === 'object' && row.metadata !== null ? (row.metadata as Record<string, unknown>) : null;
}

/** The session's working directory, or null after answering `Session path not available`. */
function sessionPath(ctx: ApiContext, row: SessionRow): string | null {
  const path = metadataOf(row)?.path;
  if (typeof path === 'string' && path.length > 0) return path;
  ctx.body = { success: false, error: 'Session path not available' };
  return null;
}

export function registerFileRoutes(router: ApiRouter, deps: WebDeps): void {
  const { files } = deps;

  router.get('/api/sessions/:id/git-status', async (ctx) => {
    const row = await requireSession(ctx, deps);
    const cwd = row && sessionPath(ctx, row);
    if (row && cwd) sendJson(ctx, await files.gitStatus(row.namespace, row.id, cwd));
  });

  router.get('/api/sessions/:id/git-diff-numstat', async (ctx) => {
    const row = await requireSession(ctx, deps);
    const cwd = row && sessionPath(ctx, row);
    if (!row || !cwd) return;
    const query = GitDiffNumstatQuerySchema.parse(ctx.query);
    sendJson(ctx, await files.gitDiffNumstat(row.namespace, row.id, cwd, query.staged));
  });

  router.get('/api/sessions/:id/git-diff-file', async (ctx) => {
    const row = await requireSession(ctx, deps);
    const cwd = row && sessionPath(ctx, row);
    if (!row || !cwd) return;
    const query = parseOr400(ctx, FilePathQuerySchema, ctx.query, 'Invalid file path');
    if (query) sendJson(ctx, await files.gitDiffFile(row.namespace, row.id, cwd, query.path, query.staged));
  });

  router.get('/api/sessions/:id/file', async (ctx) => {
    const row = await requireSession(ctx, deps);
    const cwd = row && sessionPath(ctx, row);
    if (!row || !cwd) return;
    const query = parseOr400(ctx, FilePathQuerySchema, ctx.query, 'Invalid file path');
    if (query) sendJson(ctx, await files.readFile(row.namespace, row.id, query.path));
  });

  router.get('/api/sessions/:id/directory', async (ctx) => {
    const row = await requireSession(ctx, deps);
    const cwd = row && sessionPath(ctx, row);
    if (!row || !cwd) return;
    const query = parseOr400(ctx, DirectoryQuerySchema, ctx.query, 'Invalid query');
    if (query) sendJson(ctx, await files.listDirectory(row.namespace, row.id, query.path ?? ''));
  });

  router.get('/api/sessions/:id/files', async (ctx) => {
    const row = await requireSession(ctx, deps);
    const cwd = row && sessionPath(ctx, row);
    if (!row || !cwd) return;
    const query = parseOr400(ctx, FileSearchQuerySchema, ctx.query, 'Invalid query');
    if (query) sendJson(ctx, await files.searchFiles(row.namespace, row.id, cwd, query.query, query.limit ?? 200));
  });

  router.get('/api/sessions/:id/generated-images/:imageId', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (!row) return;
    const imageId = param(ctx, 'imageId');
    if (!imageId) return sendError(ctx, 400, 'Invalid generated image id');
    const image = await files.generatedImage(row.namespace, row.id, imageId, ctx.get('if-none-match') || undefined);
    if (image.kind === 'missing') {
      ctx.status = 404;
      ctx.body = { success: false, error: image.error };
      return;
    }
    ctx.set('Cache-Control', GENERATED_IMAGE_CACHE_CONTROL);
    ctx.set('ETag', image.etag);
    if (image.kind === 'not-modified') {
      ctx.status = 304;
      return;
    }
    ctx.set('Content-Disposition', image.disposition);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.type = image.mimeType;
    ctx.body = image.bytes;
  });

  router.get('/api/sessions/:id/slash-commands', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (row) sendJson(ctx, await files.slashCommands(row.namespace, row.id, flavorOf(row.metadata), metadataOf(row)));
  });

  router.get('/api/sessions/:id/skills', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (row) sendJson(ctx, await files.skills(row.namespace, row.id, flavorOf(row.metadata)));
  });
}
