// Permission decisions (docs/protocol.md#permissions). Check order as upstream: active → (approve: body →
// request) / (deny: request → body) → flavor mode.
import { ApproveBodySchema, DenyBodySchema } from '../../protocol/web-rest.js';
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

export function registerPermissionRoutes(router: ApiRouter, deps: WebDeps): void {
  const { actions } = deps;

  router.post('/api/sessions/:id/permissions/:requestId/approve', async (ctx) => {
    const row = await requireSession(ctx, deps, { requireActive: true });
    if (!row) return;
    // An absent or non-JSON body counts as `{}` (upstream).
    const body = parseOr400(ctx, ApproveBodySchema, (await readBody(ctx, deps)) ?? {}, 'Invalid body');
    if (body) send(ctx, await actions.approve(row, param(ctx, 'requestId'), body));
  });

  router.post('/api/sessions/:id/permissions/:requestId/deny', async (ctx) => {
    const row = await requireSession(ctx, deps, { requireActive: true });
    if (!row) return;
    const requestId = param(ctx, 'requestId');
    if (!actions.hasPendingRequest(row, requestId)) return sendError(ctx, 404, 'Request not found');
    const body = parseOr400(ctx, DenyBodySchema, (await readBody(ctx, deps)) ?? {}, 'Invalid body');
    if (body) send(ctx, await actions.deny(row, requestId, body));
  });
}
