// Session list/detail and lifecycle routes (docs/protocol.md#sessions).
import { RenameBodySchema, ResumeBodySchema, SessionListQuerySchema } from '../../protocol/web-rest.js';
import { sortSessions, toSessionSummary } from '../../services/session-summary.js';
import { parseOr400, readBody, requireSession, send, sendError, type ApiRouter, type WebDeps } from './common.js';

export function registerSessionRoutes(router: ApiRouter, deps: WebDeps): void {
  const { services, actions } = deps;

  router.get('/api/sessions', async (ctx) => {
    const query = SessionListQuerySchema.parse(ctx.query);
    const sorted = sortSessions(await services.sessions.list(ctx.state.namespace), query.order);
    const limited = query.limit !== undefined ? sorted.slice(0, query.limit) : sorted;
    ctx.body = { sessions: limited.map(toSessionSummary) };
  });

  router.get('/api/sessions/:id', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (row) ctx.body = { session: services.sessions.toWire(row) };
  });

  router.post('/api/sessions/:id/abort', async (ctx) => {
    const row = await requireSession(ctx, deps, { requireActive: true });
    if (row) send(ctx, await actions.abort(row.namespace, row.id));
  });

  router.post('/api/sessions/:id/archive', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (row) send(ctx, await actions.archive(ctx.state.namespace, row));
  });

  router.delete('/api/sessions/:id', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (row) send(ctx, await actions.remove(ctx.state.namespace, row.id));
  });

  router.patch('/api/sessions/:id', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (!row) return;
    const parsed = RenameBodySchema.safeParse(await readBody(ctx, deps));
    if (!parsed.success) return sendError(ctx, 400, 'Invalid body: name is required', { issues: parsed.error.issues });
    send(ctx, await actions.rename(ctx.state.namespace, row.id, parsed.data.name));
  });

  router.post('/api/sessions/:id/resume', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (!row) return;
    // An absent or non-JSON body counts as `{}` (upstream).
    const body = parseOr400(ctx, ResumeBodySchema, (await readBody(ctx, deps)) ?? {}, 'Invalid body');
    if (body) send(ctx, await actions.resume(ctx.state.namespace, row, body.permissionMode));
  });

  router.post('/api/sessions/:id/reopen', async (ctx) => {
    // The body is ignored (the web sends `{}`), but read so the connection stays clean.
    const row = await requireSession(ctx, deps);
    if (!row) return;
    await readBody(ctx, deps);
    send(ctx, await actions.reopen(ctx.state.namespace, row));
  });
}
