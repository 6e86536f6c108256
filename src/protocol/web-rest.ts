// Bodies and queries of the /api/* REST routes (upstream shared/src/apiTypes.ts and schemas.ts).
// One schema per shape; the routes and the tests import them. Query values arrive as strings
// (or string arrays when a key repeats), so numeric query fields are coerced and an array fails.
import { z } from 'zod';

// Flavors and permission modes ---------------------------------------------------------------

export const AGENT_FLAVORS = [
  'agy',
  'claude',
  'codex',
  'dsh',
  'copilot',
  'cursor',
  'gemini',
  'grok',
  'kimi',
  'opencode',
  'pi',
] as const;
export const AgentFlavorSchema = z.enum(AGENT_FLAVORS);
export type AgentFlavor = z.infer<typeof AgentFlavorSchema>;

const CLAUDE_MODES = ['default', 'acceptEdits', 'auto', 'bypassPermissions', 'plan'] as const;
const CODEX_MODES = ['default', 'read-only', 'safe-yolo', 'yolo'] as const;

/** Upstream getPermissionModesForFlavor (shared/src/modes.ts); unknown/null flavors act as claude. */
const MODES_BY_FLAVOR: Record<AgentFlavor, readonly string[]> = {
  claude: CLAUDE_MODES,
  codex: CODEX_MODES,
  gemini: CODEX_MODES,
  kimi: CODEX_MODES,
  copilot: CODEX_MODES,
  grok: ['default', 'auto', 'plan', 'bypassPermissions'],
  opencode: ['default', 'plan', 'yolo'],
  cursor: ['default', 'plan', 'ask', 'debug', 'autoReview', 'yolo'],
  agy: ['request-review', 'always-proceed'],
  pi: [],
  dsh: [],
};

export const PERMISSION_MODES = [...new Set(Object.values(MODES_BY_FLAVOR).flat())] as [string, ...string[]];
export const PermissionModeSchema = z.enum(PERMISSION_MODES);
export type PermissionMode = z.infer<typeof PermissionModeSchema>;

/** `metadata.flavor ?? 'claude'`; a flavor this hub does not know is treated as claude. */
export function flavorOf(metadata: unknown): string {
  const flavor =
    typeof metadata === 'object' && metadata !== null ? (metadata as { flavor?: unknown }).flavor : undefined;
  return typeof flavor === 'string' && flavor.length > 0 ? flavor : 'claude';
}

export function permissionModesFor(flavor: string): readonly string[] {
  return (MODES_BY_FLAVOR as Record<string, readonly string[] | undefined>)[flavor] ?? CLAUDE_MODES;
}

/** Upstream supportsModelChange: every flavor but dsh. */
export function supportsModelChange(flavor: string): boolean {
  return flavor !== 'dsh';
}

/** Flavors whose model cannot change while the terminal (not the web) controls the agent. */
export const MODEL_LOCKED_WHEN_CONTROLLED_BY_USER: readonly string[] = ['codex', 'cursor', 'grok'];

// Auth ---------------------------------------------------------------------------------------

export const AuthBodySchema = z.union([z.object({ accessToken: z.string() }), z.object({ initData: z.string() })]);
export type AuthBody = z.infer<typeof AuthBodySchema>;

// Sessions -----------------------------------------------------------------------------------

/**
 * GET /api/sessions: upstream reads `limit` with Number() and clamps a finite value to 1..500;
 * anything non-numeric is ignored rather than rejected. Never fails.
 */
export const SessionListQuerySchema = z.object({
  limit: z
    .unknown()
    .optional()
    .transform((raw) => {
      const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
      return Number.isFinite(n) ? Math.min(500, Math.max(1, Math.floor(n))) : undefined;
    })
    // Absent keys must pass: zod 4 rejects a missing key whose schema is not optional
    // ("expected nonoptional"), which turned the bare GET /api/sessions of the real CLI's
    // inspect-peer / ping-peer into a 400.
    .optional(),
  order: z
    .unknown()
    .transform((raw) => (raw === 'updatedAt' ? ('updatedAt' as const) : undefined))
    .optional(),
});
export type SessionListQuery = z.infer<typeof SessionListQuerySchema>;

export const RenameBodySchema = z.object({ name: z.string().min(1).max(255) });

/** POST …/resume: an absent or non-JSON body counts as `{}`. */
export const ResumeBodySchema = z.object({ permissionMode: PermissionModeSchema.optional() });

// Messages -----------------------------------------------------------------------------------

const SEVEN_DAYS_MS = 7 * 24 * 60 * 60 * 1000;

export const AttachmentMetadataSchema = z.object({
  id: z.string(),
  filename: z.string(),
  mimeType: z.string(),
  size: z.number(),
  path: z.string(),
  previewUrl: z.string().optional(),
});
export type AttachmentMetadata = z.infer<typeof AttachmentMetadataSchema>;

export const SendMessageBodySchema = z
  .object({
    text: z.string(),
    localId: z.string().min(1).optional(),
    attachments: z.array(AttachmentMetadataSchema).optional(),
    scheduledAt: z.number().int().positive().nullable().optional(),
    deliveryMode: z.enum(['queue', 'steer']).optional(),
  })
  .superRefine((body, ctx) => {
    if (body.scheduledAt === null || body.scheduledAt === undefined) return;
    if (body.localId === undefined)
      ctx.addIssue({ code: 'custom', path: ['localId'], message: 'scheduledAt requires localId' });
    if (body.scheduledAt > Date.now() + SEVEN_DAYS_MS) {
      ctx.addIssue({ code: 'custom', path: ['scheduledAt'], message: 'scheduledAt must be within 7 days' });
    }
    if (body.attachments !== undefined && body.attachments.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['attachments'], message: 'scheduled messages cannot carry attachments' });
    }
    if (body.deliveryMode === 'steer') {
      ctx.addIssue({ code: 'custom', path: ['deliveryMode'], message: 'scheduled messages cannot steer' });
    }
  });
export type SendMessageBody = z.infer<typeof SendMessageBodySchema>;

const seq = z.coerce.number().int().min(1);
const at = z.coerce.number().int().min(0);

/** GET …/messages (docs/protocol.md#message-pagination). */
export const MessagesQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).optional(),
    beforeSeq: seq.optional(),
    beforeAt: at.optional(),
    afterSeq: seq.optional(),
    afterAt: at.optional(),
    untilSeq: seq.optional(),
    untilAt: at.optional(),
    epoch: z.coerce.number().int().min(0).optional(),
  })
  .superRefine((q, ctx) => {
    const pair = (name: 'before' | 'after' | 'until') => {
      const hasSeq = q[`${name}Seq`] !== undefined;
      const hasAt = q[`${name}At`] !== undefined;
      if (hasSeq !== hasAt)
        ctx.addIssue({
          code: 'custom',
          path: [hasSeq ? `${name}At` : `${name}Seq`],
          message: `${name}Seq and ${name}At must be given together`,
        });
      return hasSeq && hasAt;
    };
    const before = pair('before');
    const after = pair('after');
    const until = pair('until');
    if (before && after)
      ctx.addIssue({ code: 'custom', path: ['afterSeq'], message: 'before and after are mutually exclusive' });
    if (until && !after) ctx.addIssue({ code: 'custom', path: ['untilSeq'], message: 'until requires after' });
    if (q.epoch !== undefined && !after)
      ctx.addIssue({ code: 'custom', path: ['epoch'], message: 'epoch requires after' });
  });
export type MessagesQuery = z.infer<typeof MessagesQuerySchema>;

export const QueuedStateBodySchema = z.object({ localIds: z.array(z.string().min(1)).max(1000) });

// Permissions and session configuration ------------------------------------------------------

const DecisionSchema = z.enum(['approved', 'approved_for_session', 'denied', 'abort']);

export const ApproveBodySchema = z.object({
  mode: PermissionModeSchema.optional(),
  allowTools: z.array(z.string()).optional(),
  decision: DecisionSchema.optional(),
  answers: z
    .union([
      z.record(z.string(), z.array(z.string())),
      z.record(z.string(), z.object({ answers: z.array(z.string()) })),
    ])
    .optional(),
});
export type ApproveBody = z.infer<typeof ApproveBodySchema>;

export const DenyBodySchema = z.object({ decision: DecisionSchema.optional() });
export type DenyBody = z.infer<typeof DenyBodySchema>;

export const PermissionModeBodySchema = z.object({ mode: PermissionModeSchema });

export const PiModelSchema = z.object({ provider: z.string().min(1), modelId: z.string().min(1) });
export const ModelBodySchema = z.object({ model: z.union([z.string().trim().min(1), PiModelSchema, z.null()]) });
export type ModelValue = z.infer<typeof ModelBodySchema>['model'];

// Machines -----------------------------------------------------------------------------------

export const SpawnBodySchema = z.object({
  directory: z.string().min(1),
  agent: AgentFlavorSchema.optional(),
  model: z.string().optional(),
  effort: z.string().optional(),
  modelReasoningEffort: z.string().optional(),
  yolo: z.boolean().optional(),
  permissionMode: PermissionModeSchema.optional(),
  sessionType: z.enum(['simple', 'worktree']).optional(),
  worktreeName: z.string().optional(),
  serviceTier: z.enum(['fast', 'standard']).optional(),
  collaborationMode: z.enum(['default', 'plan']).optional(),
  copilotAgentMode: z.string().min(1).max(64).optional(),
  startingMode: z.enum(['remote', 'pty']).optional(),
});
export type SpawnBody = z.infer<typeof SpawnBodySchema>;

export const ListDirectoryBodySchema = z.object({ path: z.string().min(1), includeHidden: z.boolean().optional() });

export const PathsExistsBodySchema = z.object({ paths: z.array(z.string().min(1)).max(1000) });

// Session files, git, uploads ----------------------------------------------------------------

/** `staged=true|false`; any other value means "not given", as upstream. */
const stagedParam = z
  .unknown()
  .optional()
  .transform((raw) => (raw === 'true' ? true : raw === 'false' ? false : undefined));

export const GitDiffNumstatQuerySchema = z.object({ staged: stagedParam });
export const FilePathQuerySchema = z.object({ path: z.string().min(1), staged: stagedParam });
export const DirectoryQuerySchema = z.object({ path: z.string().optional() });
export const FileSearchQuerySchema = z.object({
  query: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

export const UPLOAD_MAX_BYTES = 50 * 1024 * 1024;

export const UploadBodySchema = z.object({
  filename: z.string().min(1).max(255),
  content: z.string().min(1),
  mimeType: z.string().min(1).max(255),
});

export const UploadDeleteBodySchema = z.object({ path: z.string().min(1) });

/** Decoded size of a base64 string without decoding it (upstream's estimate). */
export function estimateBase64Bytes(content: string): number {
  const padding = content.endsWith('==') ? 2 : content.endsWith('=') ? 1 : 0;
  return Math.floor((content.length * 3) / 4) - padding;
}
