// Turns engine rows into the wire models clients validate (upstream SessionSchema/MachineSchema).
import type { LiveFields, MachineRow, MessageRow, SessionRow } from '../engine/types.js';
import {
  AgentStateSchema,
  MachineHealthSchema,
  MachineMetadataSchema,
  MetadataSchema,
  RunnerStateSchema,
  type CliMessage,
  type Machine,
  type Session,
  type WebMessage,
} from '../protocol/models.js';

function validOrNull<T>(schema: { safeParse(v: unknown): { success: boolean } }, value: unknown): T | null {
  return value !== null && value !== undefined && schema.safeParse(value).success ? (value as T) : null;
}

function num(live: LiveFields, key: string): number | undefined {
  const v = live[key];
  return typeof v === 'number' ? v : undefined;
}

function str(live: LiveFields, key: string): string | undefined {
  const v = live[key];
  return typeof v === 'string' ? v : undefined;
}

/** The CLI's own thinking flag, or the grace after a web prompt was queued. */
export function isThinking(live: LiveFields, now: number): boolean {
  return live.cliThinking === true || (num(live, 'queuedThinkingUntil') ?? 0) > now;
}

export function sessionToWire(row: SessionRow, now: number): Session {
  const metadata = validOrNull<Session['metadata'] & object>(MetadataSchema, row.metadata);
  const live = row.live;
  const preferredMode =
    metadata && typeof metadata.preferredPermissionMode === 'string' ? metadata.preferredPermissionMode : undefined;
  const permissionMode = str(live, 'permissionMode') ?? preferredMode;
  const collaborationMode = str(live, 'collaborationMode');
  return {
    id: row.id,
    namespace: row.namespace,
    seq: row.seq,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    pinned: row.pinned,
    globalPinned: row.globalPinned,
    active: live.active === true,
    activeAt: num(live, 'activeAt') ?? row.createdAt,
    metadata,
    metadataVersion: row.metadataVersion,
    agentState: validOrNull(AgentStateSchema, row.agentState),
    agentStateVersion: row.agentStateVersion,
    thinking: live.active === true && isThinking(live, now),
    thinkingAt: num(live, 'thinkingAt') ?? 0,
    activeTurnStartedAt: num(live, 'activeTurnStartedAt') ?? null,
    backgroundTaskCount: num(live, 'backgroundTaskCount') ?? 0,
    todosUpdatedAt: 0,
    teamStateUpdatedAt: 0,
    model: row.model,
    modelReasoningEffort: row.modelReasoningEffort,
    effort: row.effort,
    serviceTier: row.serviceTier,
    ...(permissionMode !== undefined ? { permissionMode } : {}),
    ...(collaborationMode !== undefined ? { collaborationMode } : {}),
  };
}

export function parseHealth(live: LiveFields): Machine['health'] {
  const raw = str(live, 'health');
  if (raw === undefined) return null;
  try {
    const parsed = MachineHealthSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function machineToWire(row: MachineRow): Machine {
  const metadata = validOrNull<Record<string, unknown> & { host: string; platform: string; happyCliVersion: string }>(
    MachineMetadataSchema,
    row.metadata,
  );
  if (metadata && Array.isArray(metadata.workspaceRoots)) {
    const roots = metadata.workspaceRoots.filter((r): r is string => typeof r === 'string' && r.trim() !== '');
    metadata.workspaceRoots = [...new Set(roots)];
  }
  return {
    id: row.id,
    namespace: row.namespace,
    seq: row.seq,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    active: row.live.active === true,
    activeAt: num(row.live, 'activeAt') ?? row.createdAt,
    metadata,
    metadataVersion: row.metadataVersion,
    runnerState: validOrNull(RunnerStateSchema, row.runnerState),
    runnerStateVersion: row.runnerStateVersion,
    health: parseHealth(row.live),
  };
}

export function messageToCli(row: MessageRow): CliMessage {
  return { id: row.id, seq: row.seq, createdAt: row.createdAt, localId: row.localId, content: row.content };
}

export function messageToWeb(row: MessageRow): WebMessage {
  return {
    id: row.id,
    seq: row.seq,
    localId: row.localId,
    content: row.content,
    createdAt: row.createdAt,
    invokedAt: row.invokedAt,
    scheduledAt: null,
  };
}
