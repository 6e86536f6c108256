// Wire models shared with the CLI and web clients (upstream SessionSchema, MachineSchema, ...).
// Object schemas are loose (unknown keys kept) because clients parse with their own schemas and
// strip what they do not know.
import { z } from 'zod';

export const MetadataSchema = z.looseObject({
  path: z.string(),
  host: z.string(),
});
export type Metadata = z.infer<typeof MetadataSchema>;

export const AgentStateSchema = z.looseObject({
  controlledByUser: z.boolean().nullish(),
  requests: z
    .record(z.string(), z.looseObject({ tool: z.string(), arguments: z.unknown(), createdAt: z.number().nullish() }))
    .nullish(),
  completedRequests: z.record(z.string(), z.looseObject({})).nullish(),
});
export type AgentState = z.infer<typeof AgentStateSchema>;

export const MachineMetadataSchema = z.looseObject({
  host: z.string(),
  platform: z.string(),
  happyCliVersion: z.string(),
});

export const RunnerStateSchema = z.looseObject({
  status: z.string(),
});

export const MachineHealthSchema = z.strictObject({
  collectedAt: z.number(),
  cpuCount: z.number().optional(),
  load1m: z.number().optional(),
  cpuPercent: z.number().optional(),
  memoryPercent: z.number().optional(),
  uptimeSeconds: z.number().optional(),
});
export type MachineHealth = z.infer<typeof MachineHealthSchema>;

export const SessionSchema = z.object({
  id: z.string(),
  namespace: z.string(),
  seq: z.number(),
  createdAt: z.number(),
  updatedAt: z.number(),
  pinned: z.boolean(),
  globalPinned: z.boolean(),
  active: z.boolean(),
  activeAt: z.number(),
  metadata: MetadataSchema.nullable(),
  metadataVersion: z.number(),
  agentState: AgentStateSchema.nullable(),
  agentStateVersion: z.number(),
  thinking: z.boolean(),
  thinkingAt: z.number(),
  activeTurnStartedAt: z.number().nullable().optional(),
  backgroundTaskCount: z.number().optional(),
  todosUpdatedAt: z.number().optional(),
  teamStateUpdatedAt: z.number().optional(),
  model: z.string().nullable(),
  modelReasoningEffort: z.string().nullable(),
  effort: z.string().nullable(),
  serviceTier: z.string().nullable(),
  permissionMode: z.string().optional(),
  collaborationMode: z.string().optional(),
});
export type Session = z.infer<typeof SessionSchema>;

export const MachineSchema = z.object({
  id: z.string(),
  namespace: z.string(),
  seq: z.number(),
  createdAt: z.number(),
  updatedAt: z.number(),
  active: z.boolean(),
  activeAt: z.number(),
  metadata: MachineMetadataSchema.nullable(),
  metadataVersion: z.number(),
  runnerState: RunnerStateSchema.nullable(),
  runnerStateVersion: z.number(),
  health: MachineHealthSchema.nullable().optional(),
});
export type Machine = z.infer<typeof MachineSchema>;

/** A message as the CLI sees it (update/new-message, GET /cli/sessions/:id/messages). */
export const CliMessageSchema = z.object({
  id: z.string(),
  seq: z.number(),
  createdAt: z.number(),
  localId: z.string().nullable(),
  content: z.unknown(),
});
export type CliMessage = z.infer<typeof CliMessageSchema>;

/** A message as the web sees it (DecryptedMessage). */
export const WebMessageSchema = z.object({
  id: z.string(),
  seq: z.number().nullable(),
  localId: z.string().nullable(),
  content: z.unknown(),
  createdAt: z.number(),
  invokedAt: z.number().nullable().optional(),
  scheduledAt: z.number().nullable().optional(),
});
export type WebMessage = z.infer<typeof WebMessageSchema>;
