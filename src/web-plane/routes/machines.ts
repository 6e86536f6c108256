// Machine routes (docs/protocol.md#machines): list, spawn, list-directory, paths/exists.
import { ListDirectoryBodySchema, PathsExistsBodySchema, SpawnBodySchema } from '../../protocol/web-rest.js';
import {
  machineRouteBody,
  param,
  parseOr400,
  readBody,
  requireMachine,
  send,
  type ApiRouter,
  type WebDeps,
} from './common.js';

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

  // These two check the machine inside their RPC (one engine round trip with the RPC's own reads).
  router.post('/api/machines/:id/list-directory', async (ctx) => {
    const body = await machineRouteBody(ctx, deps, ListDirectoryBodySchema);
    if (body)
      send(
        ctx,
        await machineActions.listDirectory(ctx.state.namespace, param(ctx, 'id'), body.path, body.includeHidden),
      );
  });

  router.post('/api/machines/:id/paths/exists', async (ctx) => {
    const body = await machineRouteBody(ctx, deps, PathsExistsBodySchema);
    if (body) send(ctx, await machineActions.pathsExist(ctx.state.namespace, param(ctx, 'id'), body.paths));
  });
}
