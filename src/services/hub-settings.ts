// Hub-wide settings (upstream's settings.json switches exposed by /api/hub-settings), stored as
// one engine document so every worker answers the same. What each one does:
// - sessionSummaryContract: the hub hands it to every CLI in POST /cli/sessions and
//   GET /cli/sessions/:id; the CLI then asks its agent to maintain a session summary.
// - sessionSummaryInChat: read by the web app only (it shows summaries in the chat).
import { z } from 'zod';
import type { DocumentRef, WebDocuments } from './web-documents.js';

export const HubSettingsSchema = z.object({
  sessionSummaryContract: z.boolean(),
  sessionSummaryInChat: z.boolean(),
});
export type HubSettings = z.infer<typeof HubSettingsSchema>;

/** PUT body: any subset of the settings, at least one. */
export const HubSettingsPatchSchema = HubSettingsSchema.partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, { message: 'At least one setting is required' });
export type HubSettingsPatch = z.infer<typeof HubSettingsPatchSchema>;

const DEFAULTS: HubSettings = { sessionSummaryContract: false, sessionSummaryInChat: false };
/** Hub-wide, so kept as the owner namespace's own document. */
const REF: DocumentRef = { ns: 'default', owner: '', name: 'hub-settings' };

export class HubSettingsService {
  constructor(private readonly documents: WebDocuments) {}

  get(): Promise<HubSettings> {
    return this.documents.read(REF, HubSettingsSchema, DEFAULTS);
  }

  update(patch: HubSettingsPatch): Promise<HubSettings> {
    return this.documents.update(REF, HubSettingsSchema, DEFAULTS, (current) => {
      const value: HubSettings = { ...current, ...patch };
      return { value, result: value };
    });
  }
}
