// Runtime session configuration (docs/protocol.md#session-configuration): permission mode, model.
import { ModelBodySchema, PermissionModeBodySchema } from '../../protocol/web-rest.js';
import { parseOr400, readBody, requireSession, send, type ApiRouter, type WebDeps } from './common.js';

export function registerSessionConfigRoutes(router: ApiRouter, deps: WebDeps): void {
  const { actions } = deps;

  router.post('/api/sessions/:id/permission-mode', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (!row) return;
    const body = parseOr400(ctx, PermissionModeBodySchema, await readBody(ctx, deps), 'Invalid body');
    if (body) send(ctx, await actions.setPermissionMode(ctx.state.namespace, row, body.mode));
  });

  router.post('/api/sessions/:id/model', async (ctx) => {
    const row = await requireSession(ctx, deps, { requireActive: true });
    if (!row) return;
    const body = parseOr400(ctx, ModelBodySchema, await readBody(ctx, deps), 'Invalid body');
    if (body) send(ctx, await actions.setModel(ctx.state.namespace, row, body.model));
  });
}
