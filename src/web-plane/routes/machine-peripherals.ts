// PATCH /api/machines/:id (display name) and POST /api/machines/:id/restart-runner
// (docs/protocol.md#peripheral-session-routes).
import { RenameMachineBodySchema, type MachinePeripheralsUseCase } from '../use-cases/machine-peripherals.js';
import { readBody, requireMachine, send, sendError, type ApiRouter, type WebDeps } from './common.js';

export function registerMachinePeripheralRoutes(
  router: ApiRouter,
  deps: WebDeps,
  machines: MachinePeripheralsUseCase,
): void {
  router.patch('/api/machines/:id', async (ctx) => {
    const machine = await requireMachine(ctx, deps);
    if (!machine) return;
    const parsed = RenameMachineBodySchema.safeParse(await readBody(ctx, deps));
    if (!parsed.success) return sendError(ctx, 400, 'Invalid body: displayName is required');
    send(ctx, await machines.rename(machine, parsed.data.displayName));
  });

  router.post('/api/machines/:id/restart-runner', async (ctx) => {
    const machine = await requireMachine(ctx, deps);
    if (!machine) return;
    await readBody(ctx, deps);
    send(ctx, await machines.restartRunner(machine));
  });
}
