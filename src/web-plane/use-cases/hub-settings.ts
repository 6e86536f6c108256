// GET/PUT /api/hub-settings: readable by every namespace; only the owner namespace (`default`)
// may change them, as upstream. The settings themselves: services/hub-settings.ts.
import { type HubSettings, HubSettingsPatchSchema, type HubSettingsService } from '../../services/hub-settings.js';
import { fail, ok, type WebReply } from './reply.js';

export class HubSettingsUseCase {
  constructor(private readonly settings: HubSettingsService) {}

  get(): Promise<HubSettings> {
    return this.settings.get();
  }

  async update(namespace: string, body: unknown): Promise<WebReply> {
    if (namespace !== 'default') return fail(403, 'Hub settings are only available to the hub owner');
    const patch = HubSettingsPatchSchema.safeParse(body);
    if (!patch.success) return fail(400, 'Invalid body', { issues: patch.error.issues });
    return ok(await this.settings.update(patch.data));
  }
}
