// Routes the 0.30.7 web app calls only for some agents (use-cases/flavor-actions.ts): each parses,
// applies upstream's guards in upstream's order, and calls one use-case method.
import {
  CollaborationModeBodySchema,
  CopilotAgentModeBodySchema,
  type FlavorActionsUseCase,
  ImplementCodexPlanBodySchema,
  MigrateToAcpBodySchema,
} from '../use-cases/flavor-actions.js';
import {
  parseOr400,
  readBody,
  requireMachine,
  requireSession,
  send,
  sendError,
  type ApiRouter,
  type WebDeps,
} from './common.js';

export function registerFlavorActionRoutes(router: ApiRouter, deps: WebDeps, flavors: FlavorActionsUseCase): void {
  router.post('/api/sessions/:id/collaboration-mode', async (ctx) => {
    const row = await requireSession(ctx, deps, { requireActive: true });
    if (!row) return;
    const refused = flavors.modeGate(row, 'collaboration-mode');
    if (refused) return send(ctx, refused);
    const body = parseOr400(ctx, CollaborationModeBodySchema, await readBody(ctx, deps), 'Invalid body');
    if (body) send(ctx, await flavors.setMode(row, 'collaborationMode', body.mode));
  });

  router.post('/api/sessions/:id/copilot-agent-mode', async (ctx) => {
    const row = await requireSession(ctx, deps, { requireActive: true });
    if (!row) return;
    const refused = flavors.modeGate(row, 'copilot-agent-mode');
    if (refused) return send(ctx, refused);
    const body = parseOr400(ctx, CopilotAgentModeBodySchema, await readBody(ctx, deps), 'Invalid body');
    if (body) send(ctx, await flavors.setMode(row, 'copilotAgentMode', body.mode));
  });

  router.post('/api/sessions/:id/clear', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (!row) return;
    await readBody(ctx, deps);
    send(ctx, await flavors.clear(row));
  });

  router.post('/api/sessions/:id/codex/plan/implement', async (ctx) => {
    const row = await requireSession(ctx, deps, { requireActive: true });
    if (!row) return;
    const refused = flavors.planGate(row);
    if (refused) return send(ctx, refused);
    const body = parseOr400(ctx, ImplementCodexPlanBodySchema, await readBody(ctx, deps), 'Invalid body');
    if (body) send(ctx, await flavors.implementPlan(row, body.planId));
  });

  router.get('/api/sessions/:id/cursor-chat-store', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (row) send(ctx, await flavors.cursorChatStore(row));
  });

  router.post('/api/sessions/:id/migrate-to-acp', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (!row) return;
    const parsed = MigrateToAcpBodySchema.safeParse((await readBody(ctx, deps)) ?? {});
    if (!parsed.success) return sendError(ctx, 400, 'Invalid body', { issues: parsed.error.issues });
    send(ctx, flavors.migrateToAcp(row, parsed.data));
  });

  router.post('/api/sessions/:id/title-suggestion', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (!row) return;
    await readBody(ctx, deps);
    send(ctx, flavors.titleSuggestion());
  });

  router.get('/api/machines/:id/opencode-model-variants', async (ctx) => {
    const machine = await requireMachine(ctx, deps);
    const cwd = typeof ctx.query.cwd === 'string' && ctx.query.cwd !== '' ? ctx.query.cwd : null;
    if (machine) send(ctx, await flavors.opencodeModelVariants(machine.namespace, machine.id, cwd));
  });
}
