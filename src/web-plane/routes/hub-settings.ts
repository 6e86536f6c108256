// GET/PUT /api/hub-settings (docs/protocol.md#hub-settings).
import type { HubSettingsUseCase } from '../use-cases/hub-settings.js';
import { readBody, send, type ApiRouter, type WebDeps } from './common.js';

export function registerHubSettingsRoutes(router: ApiRouter, deps: WebDeps, settings: HubSettingsUseCase): void {
  router.get('/api/hub-settings', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await settings.get();
  });

  router.put('/api/hub-settings', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    send(ctx, await settings.update(ctx.state.namespace, await readBody(ctx, deps)));
  });
}
