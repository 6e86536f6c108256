// Peripheral session and machine routes the web app exposes (docs/protocol.md#peripheral-session-routes):
// pin, summary, switch, effort/reasoning/service tier, model catalogs, agent availability,
// steer/retry, fork/rewind, export.
import type { SessionExportUseCase } from '../use-cases/session-export.js';
import type { SessionHistoryUseCase } from '../use-cases/session-history.js';
import {
  CONFIG_ROUTES,
  EffortBodySchema,
  ForkBodySchema,
  MACHINE_CATALOGS,
  ModelReasoningEffortBodySchema,
  PinBodySchema,
  RewindBodySchema,
  ServiceTierBodySchema,
  SESSION_CATALOGS,
  SummaryBodySchema,
  type ConfigRoute,
  type SessionPeripheralsUseCase,
} from '../use-cases/session-peripherals.js';
import {
  param,
  parseOr400,
  readBody,
  requireMachine,
  requireSession,
  send,
  sendError,
  type ApiRouter,
  type WebDeps,
} from './common.js';

export interface PeripheralUseCases {
  peripherals: SessionPeripheralsUseCase;
  history: SessionHistoryUseCase;
  exporter: SessionExportUseCase;
}

const CONFIG_BODIES = {
  effort: { schema: EffortBodySchema, value: (b: unknown) => (b as { effort: string | null }).effort },
  'model-reasoning-effort': {
    schema: ModelReasoningEffortBodySchema,
    value: (b: unknown) => (b as { modelReasoningEffort: string | null }).modelReasoningEffort,
  },
  'service-tier': { schema: ServiceTierBodySchema, value: (b: unknown) => (b as { serviceTier: string }).serviceTier },
} as const;

export function registerSessionPeripheralRoutes(
  router: ApiRouter,
  deps: WebDeps,
  { peripherals, history, exporter }: PeripheralUseCases,
): void {
  router.put('/api/sessions/:id/pin', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (!row) return;
    const parsed = PinBodySchema.safeParse(await readBody(ctx, deps));
    if (!parsed.success) return sendError(ctx, 400, 'Invalid body: mode must be none, project, or global');
    send(ctx, await peripherals.pin(row, parsed.data.mode));
  });

  router.patch('/api/sessions/:id/summary', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (!row) return;
    const parsed = SummaryBodySchema.safeParse(await readBody(ctx, deps));
    if (!parsed.success) return sendError(ctx, 400, 'Invalid body: text is required');
    send(ctx, await peripherals.summary(row, parsed.data.text));
  });

  router.post('/api/sessions/:id/switch', async (ctx) => {
    const row = await requireSession(ctx, deps, { requireActive: true });
    if (!row) return;
    await readBody(ctx, deps);
    send(ctx, await peripherals.switchToRemote(row));
  });

  for (const route of Object.keys(CONFIG_ROUTES) as ConfigRoute[]) {
    router.post(`/api/sessions/:id/${route}`, async (ctx) => {
      const row = await requireSession(ctx, deps, { requireActive: true });
      if (!row) return;
      const spec = CONFIG_BODIES[route];
      const body = parseOr400(ctx, spec.schema, await readBody(ctx, deps), 'Invalid body');
      if (body) send(ctx, await peripherals.setConfig(row, route, spec.value(body)));
    });
  }

  for (const segment of Object.keys(SESSION_CATALOGS)) {
    router.get(`/api/sessions/:id/${segment}`, async (ctx) => {
      const row = await requireSession(ctx, deps, { requireActive: true });
      if (row) send(ctx, await peripherals.sessionCatalog(row, segment));
    });
  }

  for (const segment of Object.keys(MACHINE_CATALOGS)) {
    router.get(`/api/machines/:id/${segment}`, async (ctx) => {
      const machine = await requireMachine(ctx, deps);
      const cwd = typeof ctx.query.cwd === 'string' && ctx.query.cwd !== '' ? ctx.query.cwd : undefined;
      if (machine) send(ctx, await peripherals.machineCatalog(machine.namespace, machine.id, segment, cwd));
    });
  }

  router.get('/api/machines/:id/agent-availability', async (ctx) => {
    const machine = await requireMachine(ctx, deps);
    if (machine) send(ctx, await peripherals.agentAvailability(machine.namespace, machine.id));
  });

  router.post('/api/sessions/:id/messages/:messageId/steer', async (ctx) => {
    const row = await requireSession(ctx, deps, { requireActive: true });
    if (!row) return;
    await readBody(ctx, deps);
    const message = await deps.services.messages.find(row.namespace, row.id, param(ctx, 'messageId'));
    send(ctx, await peripherals.steer(row, message?.localId ?? null));
  });

  router.post('/api/sessions/:id/messages/:messageId/retry', async (ctx) => {
    // Only steer rows can be indeterminate, and only steerable flavors produce them; no row here
    // is ever in that state, so there is nothing to retry (upstream's answer for that case).
    const row = await requireSession(ctx, deps);
    if (!row) return;
    await readBody(ctx, deps);
    ctx.body = { status: 'not-found' };
  });

  router.post('/api/sessions/:id/fork', async (ctx) => {
    const row = await requireSession(ctx, deps, { requireActive: true });
    if (!row) return;
    const body = parseOr400(ctx, ForkBodySchema, (await readBody(ctx, deps)) ?? {}, 'Invalid body');
    if (body) send(ctx, await history.fork(row, body.messageLocalId));
  });

  router.post('/api/sessions/:id/rewind', async (ctx) => {
    const row = await requireSession(ctx, deps, { requireActive: true });
    if (!row) return;
    const parsed = RewindBodySchema.safeParse(await readBody(ctx, deps));
    if (!parsed.success) return sendError(ctx, 400, 'Invalid body');
    send(ctx, await history.rewind(row, parsed.data.messageLocalId));
  });

  router.get('/api/sessions/:id/export', async (ctx) => {
    const row = await requireSession(ctx, deps);
    if (row) send(ctx, await exporter.export(row, ctx.query.force === 'true'));
  });
}
