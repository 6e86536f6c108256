// Hub-wide web settings (GET/PUT /api/hub-settings): upstream's two session-summary switches,
// kept in the engine so every worker answers the same. Readable by every namespace; only the
// owner namespace (`default`) may change them, as upstream.
import { z } from 'zod';
import type { WebDocuments } from '../../services/web-documents.js';
import { fail, ok, type WebReply } from './reply.js';

export const HubSettingsSchema = z.object({
  sessionSummaryContract: z.boolean(),
  sessionSummaryInChat: z.boolean(),
});
export type HubSettings = z.infer<typeof HubSettingsSchema>;

/** PUT body: any subset of the settings, at least one. */
export const HubSettingsPatchSchema = HubSettingsSchema.partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, { message: 'At least one setting is required' });

const DEFAULTS: HubSettings = { sessionSummaryContract: false, sessionSummaryInChat: false };
const KEY = 'hub-settings';

export class HubSettingsUseCase {
  constructor(private readonly documents: WebDocuments) {}

  get(): Promise<HubSettings> {
    return this.documents.read(KEY, HubSettingsSchema, DEFAULTS);
  }

  async update(namespace: string, body: unknown): Promise<WebReply> {
    if (namespace !== 'default') return fail(403, 'Hub settings are only available to the hub owner');
    const patch = HubSettingsPatchSchema.safeParse(body);
    if (!patch.success) return fail(400, 'Invalid body', { issues: patch.error.issues });
    const next = await this.documents.update(KEY, HubSettingsSchema, DEFAULTS, (current) => {
      const value = { ...current, ...patch.data } as HubSettings;
      return { value, result: value };
    });
    return ok(next);
  }
}
