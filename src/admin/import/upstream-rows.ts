// The rows of an upstream hub's hapi.db (schema user_version 26, hub 0.30.7) that the import
// reads, as zod schemas: one per table, checked row by row so a damaged row is reported by id
// instead of being written half-understood.
import { z } from 'zod';

/** The newest upstream schema this import understands (PRAGMA user_version of hub 0.30.7). */
export const UPSTREAM_SCHEMA_VERSION = 26;

/** SQLite INTEGER columns come back as numbers (or bigints past 2^53, which we refuse). */
const int = z.number().int();
const flag = z.union([z.literal(0), z.literal(1)]);

export const UpstreamSessionRowSchema = z.object({
  id: z.string().min(1),
  tag: z.string().nullable(),
  namespace: z.string().min(1),
  created_at: int,
  updated_at: int,
  metadata: z.string().nullable(),
  metadata_version: int.nullable(),
  agent_state: z.string().nullable(),
  agent_state_version: int.nullable(),
  model: z.string().nullable(),
  model_reasoning_effort: z.string().nullable(),
  effort: z.string().nullable(),
  service_tier: z.string().nullable(),
  pinned: flag,
  global_pinned: flag,
  active_at: int.nullable(),
  seq: int.nullable(),
});
export type UpstreamSessionRow = z.infer<typeof UpstreamSessionRowSchema>;

export const UpstreamMachineRowSchema = z.object({
  id: z.string().min(1),
  namespace: z.string().min(1),
  created_at: int,
  updated_at: int,
  metadata: z.string().nullable(),
  metadata_version: int.nullable(),
  runner_state: z.string().nullable(),
  runner_state_version: int.nullable(),
  active_at: int.nullable(),
  seq: int.nullable(),
});
export type UpstreamMachineRow = z.infer<typeof UpstreamMachineRowSchema>;

export const UpstreamMessageRowSchema = z.object({
  id: z.string().min(1),
  session_id: z.string().min(1),
  /** JSON text, or a BLOB (zstd-compressed JSON, as upstream stores larger rows). */
  content: z.union([z.string(), z.instanceof(Uint8Array)]),
  created_at: int,
  seq: int.positive(),
  local_id: z.string().nullable(),
  invoked_at: int.nullable(),
});
export type UpstreamMessageRow = z.infer<typeof UpstreamMessageRowSchema>;

/** The part of upstream's HAPI_HOME/settings.json the import uses. */
export const UpstreamSettingsSchema = z.object({ cliApiToken: z.string().min(1).optional() }).passthrough();

/** Columns each table must have (PRAGMA table_info), so an unrelated database is refused up front. */
export const REQUIRED_COLUMNS: Record<'sessions' | 'machines' | 'messages', readonly string[]> = {
  sessions: Object.keys(UpstreamSessionRowSchema.shape),
  machines: Object.keys(UpstreamMachineRowSchema.shape),
  messages: Object.keys(UpstreamMessageRowSchema.shape),
};

/**
 * Tables whose rows are not carried over (see README "Migrating from an upstream hub"), counted
 * so the summary says what stayed behind.
 */
export const LEFT_BEHIND_TABLES = [
  'users',
  'push_subscriptions',
  'fcm_devices',
  'session_scratchlist',
  'usage_events',
  'events',
] as const;
