// Machine routes (docs/protocol.md#machines): list, spawn, list-directory, paths/exists.
import { ListDirectoryBodySchema, PathsExistsBodySchema, SpawnBodySchema } from '../../protocol/web-rest.js';
import { parseOr400, readBody, requireMachine, send, type ApiRouter, type WebDeps } from './common.js';

export function registerMachineRoutes(router: ApiRouter, deps: WebDeps): void {
  const { services, machineActions } = deps;

  router.get('/api/machines', async (ctx) => {
    // Only online machines, as upstream: clients learn about offline ones from machine-updated.
    ctx.body = { machines: await services.machines.list(ctx.state.namespace, true) };
  });

  router.post('/api/machines/:id/spawn', async (ctx) => {
    const machine = await requireMachine(ctx, deps);
    if (!machine) return;
    const body = parseOr400(ctx, SpawnBodySchema, await readBody(ctx, deps), 'Invalid body');
    if (body) send(ctx, await machineActions.spawn(machine.namespace, machine.id, body));
  });

  router.post('/api/machines/:id/list-directory', async (ctx) => {
    const machine = await requireMachine(ctx, deps);
    if (!machine) return;
    const body = parseOr400(ctx, ListDirectoryBodySchema, await readBody(ctx, deps), 'Invalid body');
    if (body)
      send(ctx, await machineActions.listDirectory(machine.namespace, machine.id, body.path, body.includeHidden));
  });

  router.post('/api/machines/:id/paths/exists', async (ctx) => {
    const machine = await requireMachine(ctx, deps);
    if (!machine) return;
    const body = parseOr400(ctx, PathsExistsBodySchema, await readBody(ctx, deps), 'Invalid body');
    if (body) send(ctx, await machineActions.pathsExist(machine.namespace, machine.id, body.paths));
  });
}
