// SessionSummary (upstream shared/src/sessionSummary.ts toSessionSummary) and the list order of
// GET /api/sessions.
import type { Session } from '../protocol/models.js';

export type PendingRequestKind = 'permission' | 'input';

export interface SessionSummary {
  id: string;
  active: boolean;
  thinking: boolean;
  activeAt: number;
  updatedAt: number;
  pinned: boolean;
  globalPinned: boolean;
  metadata: {
    name?: string;
    path: string;
    machineId?: string;
    summary?: { text: string };
    flavor: string | null;
    worktree?: unknown;
    agentSessionId?: string;
    lifecycleState?: string;
    hapiMcpUrl?: string;
  } | null;
  metadataVersion: number;
  agentStateVersion: number;
  todosUpdatedAt: number;
  todoProgress: { completed: number; total: number } | null;
  pendingRequestsCount: number;
  pendingRequestKinds: PendingRequestKind[];
  pendingRequests: { id: string; kind: PendingRequestKind; tool: string; since: number }[];
  backgroundTaskCount: number;
  futureScheduledMessageCount: number;
  nextScheduledAt: number | null;
  model: string | null;
  modelReasoningEffort: string | null;
  effort: string | null;
}

/** Tools whose "permission request" is really a question for the user. */
const INPUT_TOOLS = new Set([
  'AskUserQuestion',
  'ask_user_question',
  'ExitPlanMode',
  'exit_plan_mode',
  'request_user_input',
]);

/** Native agent session id field per flavor; the order doubles as the legacy fallback chain. */
export const AGENT_SESSION_ID_FIELDS: Record<string, string> = {
  claude: 'claudeSessionId',
  codex: 'codexSessionId',
  gemini: 'geminiSessionId',
  opencode: 'opencodeSessionId',
  grok: 'grokSessionId',
  agy: 'agySessionId',
  cursor: 'cursorSessionId',
  kimi: 'kimiSessionId',
  copilot: 'copilotSessionId',
  pi: 'piSessionId',
};

function stringField(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** The agent-native id matching the flavor; for an unknown or missing flavor the first one set. */
export function agentSessionIdOf(metadata: Record<string, unknown>): string | undefined {
  const flavor = typeof metadata.flavor === 'string' ? metadata.flavor : undefined;
  const field = flavor !== undefined ? AGENT_SESSION_ID_FIELDS[flavor] : undefined;
  if (field !== undefined) return stringField(metadata, field);
  for (const candidate of Object.values(AGENT_SESSION_ID_FIELDS)) {
    const value = stringField(metadata, candidate);
    if (value !== undefined) return value;
  }
  return undefined;
}

function pendingRequestsOf(session: Session): SessionSummary['pendingRequests'] {
  const requests = session.agentState?.requests ?? {};
  return Object.entries(requests)
    .map(([id, request]) => ({
      id,
      kind: (INPUT_TOOLS.has(request.tool) ? 'input' : 'permission') as PendingRequestKind,
      tool: request.tool,
      since: typeof request.createdAt === 'number' ? request.createdAt : session.updatedAt,
    }))
    .sort((a, b) => a.since - b.since);
}

export function toSessionSummary(session: Session): SessionSummary {
  const raw = session.metadata as Record<string, unknown> | null;
  let metadata: SessionSummary['metadata'] = null;
  if (raw) {
    const summaryText =
      typeof raw.summary === 'object' && raw.summary !== null ? (raw.summary as { text?: unknown }).text : undefined;
    const name = stringField(raw, 'name');
    const machineId = stringField(raw, 'machineId');
    const agentSessionId = agentSessionIdOf(raw);
    const lifecycleState = stringField(raw, 'lifecycleState');
    const hapiMcpUrl = stringField(raw, 'hapiMcpUrl');
    metadata = {
      ...(name !== undefined ? { name } : {}),
      path: session.metadata?.path ?? '',
      ...(machineId !== undefined ? { machineId } : {}),
      ...(typeof summaryText === 'string' ? { summary: { text: summaryText } } : {}),
      flavor: typeof raw.flavor === 'string' ? raw.flavor : null,
      ...(raw.worktree !== undefined && raw.worktree !== null ? { worktree: raw.worktree } : {}),
      ...(agentSessionId !== undefined ? { agentSessionId } : {}),
      ...(lifecycleState !== undefined ? { lifecycleState } : {}),
      ...(hapiMcpUrl !== undefined ? { hapiMcpUrl } : {}),
    };
  }
  const pending = pendingRequestsOf(session);
  return {
    id: session.id,
    active: session.active,
    thinking: session.thinking,
    activeAt: session.activeAt,
    updatedAt: session.updatedAt,
    pinned: session.pinned,
    globalPinned: session.globalPinned,
    metadata,
    metadataVersion: session.metadataVersion,
    agentStateVersion: session.agentStateVersion,
    todosUpdatedAt: session.todosUpdatedAt ?? 0,
    // The hub does not track TodoWrite lists (no todos on the Session), so there is no progress.
    todoProgress: null,
    pendingRequestsCount: pending.length,
    pendingRequestKinds: [...new Set(pending.map((p) => p.kind))],
    pendingRequests: pending.slice(0, 5),
    backgroundTaskCount: session.backgroundTaskCount ?? 0,
    // Scheduled messages are out of scope (no scheduler), so nothing is ever future-scheduled.
    futureScheduledMessageCount: 0,
    nextScheduledAt: null,
    model: session.model,
    modelReasoningEffort: session.modelReasoningEffort,
    effort: session.effort,
  };
}

function pendingCount(session: Session): number {
  return Object.keys(session.agentState?.requests ?? {}).length;
}

/**
 * Upstream list order: `order=updatedAt` → newest activity first; otherwise globally pinned,
 * then pinned, then active, then (among active) more pending requests, then newest activity.
 */
export function sortSessions(sessions: Session[], order: 'updatedAt' | undefined): Session[] {
  const byUpdated = (a: Session, b: Session) => b.updatedAt - a.updatedAt;
  if (order === 'updatedAt') return [...sessions].sort(byUpdated);
  return [...sessions].sort((a, b) => {
    if (a.globalPinned !== b.globalPinned) return a.globalPinned ? -1 : 1;
    if (a.pinned !== b.pinned) return a.pinned ? -1 : 1;
    if (a.active !== b.active) return a.active ? -1 : 1;
    if (a.active && b.active) {
      const diff = pendingCount(b) - pendingCount(a);
      if (diff !== 0) return diff;
    }
    return byUpdated(a, b);
  });
}
