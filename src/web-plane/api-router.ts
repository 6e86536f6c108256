// /api REST routes (everything but the SSE plane's /api/events and /api/visibility). Route groups
// live in ./routes; the web use cases they call (./use-cases) are built here, once per worker.
import Router from '@koa/router';
import type { HubConfig } from '../config.js';
import type { Logger } from '../ops/logger.js';
import type { Services } from '../services/index.js';
import { MachineActions } from './use-cases/machine-actions.js';
import { SessionActions } from './use-cases/session-actions.js';
import { SessionFiles } from './use-cases/session-files.js';
import type { ApiState } from './jwt-auth.js';
import type { LiveEventSource } from './live-events.js';
import { registerAuthRoutes } from './routes/auth.js';
import type { WebDeps } from './routes/common.js';
import { registerFileRoutes } from './routes/files-git.js';
import { registerMachineRoutes } from './routes/machines.js';
import { registerMessageRoutes } from './routes/messages.js';
import { registerPermissionRoutes } from './routes/permissions.js';
import { registerSessionConfigRoutes } from './routes/session-config.js';
import { registerSessionRoutes } from './routes/sessions.js';
import { registerUploadRoutes } from './routes/uploads.js';
import { registerHubSettingsRoutes } from './routes/hub-settings.js';
import { registerMachinePeripheralRoutes } from './routes/machine-peripherals.js';
import { registerOutOfScopeRoutes } from './routes/out-of-scope-features.js';
import { registerScratchlistRoutes } from './routes/scratchlist.js';
import { registerSessionPeripheralRoutes } from './routes/session-peripherals.js';
import { HubSettingsUseCase } from './use-cases/hub-settings.js';
import { FlavorActionsUseCase } from './use-cases/flavor-actions.js';
import { registerFlavorActionRoutes } from './routes/flavor-actions.js';
import { MachinePeripheralsUseCase } from './use-cases/machine-peripherals.js';
import { ScratchlistUseCase } from './use-cases/scratchlist.js';
import { SessionExportUseCase } from './use-cases/session-export.js';
import { SessionHistoryUseCase } from './use-cases/session-history.js';
import { SessionPeripheralsUseCase } from './use-cases/session-peripherals.js';

export function createApiRouter(services: Services, config: HubConfig, live: LiveEventSource, log: Logger): Router {
  const rpc = services.rpcGateway;
  const deps: WebDeps = {
    services,
    config,
    live,
    log,
    rpc,
    pages: services.messagePages,
    actions: new SessionActions(services, rpc, live),
    machineActions: new MachineActions(rpc, services.machines),
    files: new SessionFiles(rpc),
  };
  const router = new Router<ApiState>();
  registerAuthRoutes(router, deps);
  registerSessionRoutes(router, deps);
  registerMessageRoutes(router, deps);
  registerPermissionRoutes(router, deps);
  registerSessionConfigRoutes(router, deps);
  registerMachineRoutes(router, deps);
  registerFileRoutes(router, deps);
  registerUploadRoutes(router, deps);
  const documents = services.documents;
  const now = () => services.deps.clock();
  const scratchlist = new ScratchlistUseCase(documents, now, (ns, sid, at) =>
    services.deps.events.publish(ns, { type: 'session-updated', sessionId: sid, data: { scratchlistUpdatedAt: at } }),
  );
  registerScratchlistRoutes(router, deps, scratchlist);
  registerHubSettingsRoutes(router, deps, new HubSettingsUseCase(services.hubSettings));
  registerSessionPeripheralRoutes(router, deps, {
    peripherals: new SessionPeripheralsUseCase(services.sessions, rpc, now),
    history: new SessionHistoryUseCase(
      services.sessions,
      services.messages,
      rpc,
      services.deps.engine.coordination,
      deps.live,
    ),
    exporter: new SessionExportUseCase(services.sessions, deps.pages, scratchlist, now),
  });
  registerMachinePeripheralRoutes(router, deps, new MachinePeripheralsUseCase(services.machines, rpc));
  registerFlavorActionRoutes(
    router,
    deps,
    new FlavorActionsUseCase(services.sessions, services.machines, rpc, deps.actions),
  );
  registerOutOfScopeRoutes(router, deps);
  return router;
}
