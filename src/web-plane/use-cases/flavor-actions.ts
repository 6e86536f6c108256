// Session actions the 0.30.7 web app offers only for some agents (Codex, Copilot, Cursor, shared
// "concurrent client" runtimes), answered as upstream 0.30.7's hub answers them: forwarded to the
// CLI or runner over RPC where upstream does, else upstream's status and body for that case.
// - collaboration-mode (Codex), copilot-agent-mode (Copilot): set-session-config, like effort.
// - clear (shared runtimes): RPC clear-conversation, answer the replacement session.
// - codex/plan/implement (shared Codex): RPC implement-codex-plan, status from the CLI's code.
// - cursor-chat-store (Cursor): the session machine's RPC cursor-chat-store-status.
// - migrate-to-acp (Cursor): upstream's preflight refusals; the migration itself rewrites files on
//   the hub's own disk, which a cluster hub does not share with the machine (cross_host_session).
// - title-suggestion: upstream needs a configured title provider; none here (503).
// - machine opencode-model-variants: RPC listOpencodeModelVariants {cwd}.
import { z } from 'zod';
import { flavorOf } from '../../protocol/web-rest.js';
import { RpcTargetMissingError } from '../../services/errors.js';
import type { MachineService } from '../../services/machines.js';
import type { SessionRow } from '../../services/model.js';
import type { RpcGateway } from '../../services/rpc-gateway.js';
import type { SessionService } from '../../services/sessions.js';
import type { SessionActions } from './session-actions.js';
import { isSharedRuntime, sharedRuntimeChild } from './shared-runtime.js';
import { fail, ok, rpcTransportReply, type WebReply } from './reply.js';

export const CollaborationModeBodySchema = z.object({ mode: z.enum(['default', 'plan']) });
/** Copilot agent modes; the legacy `fleet` is read as `interactive` (upstream). */
export const CopilotAgentModeBodySchema = z.object({
  mode: z.union([z.enum(['interactive', 'plan', 'autopilot']), z.literal('fleet').transform(() => 'interactive')]),
});
export const ImplementCodexPlanBodySchema = z.object({ planId: z.string().min(1) });
export const MigrateToAcpBodySchema = z.object({
  keepSource: z.boolean().optional(),
  forceArchiveRunning: z.boolean().optional(),
  skipVerify: z.boolean().optional(),
});
export type MigrateToAcpBody = z.infer<typeof MigrateToAcpBodySchema>;

const CursorChatStoreStatusSchema = z.object({ onDisk: z.boolean(), store: z.enum(['legacy', 'acp']).nullable() });
const PLAN_INDETERMINATE =
  'Plan implementation could not be confirmed. Reconnect and check the mode, queue and conversation before retrying.';
const CURSOR_SESSION_ID = /^[A-Za-z0-9._-]+$/;

type Metadata = Record<string, unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function metadataOf(row: SessionRow): Metadata {
  return isRecord(row.metadata) ? row.metadata : {};
}

function controlledFromTerminal(row: SessionRow): boolean {
  return isRecord(row.agentState) && row.agentState.controlledByUser === true && !isSharedRuntime(metadataOf(row));
}

export class FlavorActionsUseCase {
  constructor(
    private readonly sessions: SessionService,
    private readonly machines: MachineService,
    private readonly rpc: RpcGateway,
    private readonly actions: SessionActions,
  ) {}

  /** Flavor and terminal-control gates of collaboration-mode / copilot-agent-mode (before the body). */
  modeGate(row: SessionRow, route: 'collaboration-mode' | 'copilot-agent-mode'): WebReply | null {
    const flavor = flavorOf(row.metadata);
    if (route === 'collaboration-mode') {
      if (flavor !== 'codex') return fail(400, 'Collaboration mode is only supported for Codex sessions');
      if (controlledFromTerminal(row))
        return fail(409, 'Collaboration mode can only be changed for remote Codex sessions');
      return null;
    }
    if (flavor !== 'copilot') return fail(400, 'Copilot agent mode is only supported for Copilot sessions');
    if (controlledFromTerminal(row))
      return fail(409, 'Copilot agent mode can only be changed for remote Copilot sessions');
    return null;
  }

  /** set-session-config {collaborationMode|copilotAgentMode}; the CLI must report it applied. */
  async setMode(row: SessionRow, key: 'collaborationMode' | 'copilotAgentMode', mode: string): Promise<WebReply> {
    let reply: unknown;
    try {
      reply = await this.rpc.setSessionConfig(row.namespace, row.id, { [key]: mode });
    } catch (error) {
      return rpcTransportReply(error);
    }
    if (isRecord(reply) && typeof reply.error === 'string' && reply.error.trim().length > 0)
      return fail(409, reply.error);
    if (!isRecord(reply) || !isRecord(reply.applied))
      return fail(409, `Missing applied session config, got: ${JSON.stringify(reply) ?? String(reply)}`);
    if (!(key in reply.applied)) return fail(409, `Session did not apply ${key}`);
    // Runtime values, as upstream keeps them: shown in the session until the CLI reports others.
    await this.sessions.setLiveFields(row.namespace, row.id, { [key]: mode });
    if (key === 'copilotAgentMode') {
      // Also remembered for the next spawn (upstream: metadata.preferredCopilotAgentMode).
      await this.sessions.writeMetadataFromHub(row.namespace, row.id, (prior) => ({
        ...prior,
        preferredCopilotAgentMode: mode,
      }));
    } else {
      await this.sessions.publishFull(row.namespace, row.id);
    }
    return ok();
  }

  /**
   * POST …/clear (shared runtimes only): an inactive session is resumed first (resume's own error
   * answers), then the CLI starts a fresh conversation as a new session, which is the answer.
   */
  async clear(row: SessionRow): Promise<WebReply> {
    if (!isSharedRuntime(metadataOf(row))) return fail(409, 'Shared session required');
    if (row.live.active === true) return this.clearActive(row);
    const resumed = await this.actions.resume(row.namespace, row, this.sessions.toWire(row).permissionMode);
    const sessionId = (resumed.body as { sessionId?: unknown }).sessionId;
    if (resumed.status !== 200 || typeof sessionId !== 'string') return resumed;
    const live = await this.sessions.row(row.namespace, sessionId);
    return live ? this.clearActive(live) : fail(500, 'Clear requires an active shared session');
  }

  private async clearActive(row: SessionRow): Promise<WebReply> {
    if (!isSharedRuntime(metadataOf(row)) || row.live.active !== true)
      return fail(500, 'Clear requires an active shared session');
    let reply: unknown;
    try {
      reply = await this.rpc.session(row.namespace, row.id, 'clear-conversation', {});
    } catch (error) {
      return rpcTransportReply(error);
    }
    const childId = isRecord(reply) && typeof reply.sessionId === 'string' ? reply.sessionId : '';
    const child = childId ? await sharedRuntimeChild(this.sessions, row, childId) : null;
    if (!child) return fail(500, 'Invalid shared-runtime clear binding');
    return ok({ sessionId: child.id });
  }

  /** Gate of codex/plan/implement (before the body). */
  planGate(row: SessionRow): WebReply | null {
    const metadata = metadataOf(row);
    if (metadata.flavor !== 'codex' || !isSharedRuntime(metadata))
      return fail(409, 'An active shared Codex session is required', { ok: false, code: 'unavailable' });
    return null;
  }

  /** RPC implement-codex-plan {planId}: 200 ok, 503 indeterminate, 502 failed, else 409. */
  async implementPlan(row: SessionRow, planId: string): Promise<WebReply> {
    let result: unknown;
    try {
      result = await this.rpc.session(row.namespace, row.id, 'implement-codex-plan', { planId });
    } catch {
      result = { ok: false, code: 'indeterminate', error: PLAN_INDETERMINATE };
    }
    const body = isRecord(result) ? result : { ok: false, code: 'indeterminate', error: PLAN_INDETERMINATE };
    const status = body.ok === true ? 200 : body.code === 'indeterminate' ? 503 : body.code === 'failed' ? 502 : 409;
    return { status, body };
  }

  /** GET …/cursor-chat-store: where the Cursor chat of this session lives on its machine. */
  async cursorChatStore(row: SessionRow): Promise<WebReply> {
    const metadata = metadataOf(row);
    const path = typeof metadata.path === 'string' ? metadata.path : '';
    const cursorSessionId = typeof metadata.cursorSessionId === 'string' ? metadata.cursorSessionId : '';
    if (metadata.flavor !== 'cursor' || !path || !cursorSessionId)
      return fail(409, 'Cursor resume metadata is unavailable', { code: 'resume_unavailable' });
    // Upstream asks only the machine the session ran on (no same-host fallback here).
    const machineId = typeof metadata.machineId === 'string' ? metadata.machineId : '';
    const online = machineId ? (await this.machines.list(row.namespace, true)).some((m) => m.id === machineId) : false;
    if (!online) return fail(503, 'No machine online', { code: 'no_machine_online' });
    try {
      const reply = await this.rpc.machine(row.namespace, machineId, 'cursor-chat-store-status', {
        workspacePath: path,
        cursorSessionId,
        homeDir: metadata.homeDir,
      });
      return ok(CursorChatStoreStatusSchema.parse(reply));
    } catch (error) {
      const message = error instanceof Error ? error.message : 'Failed to inspect Cursor chat store';
      return fail(502, message, { code: 'probe_failed' });
    }
  }

  /** POST …/migrate-to-acp: upstream's refusal outcome object, with its status. */
  migrateToAcp(row: SessionRow, body: MigrateToAcpBody): WebReply {
    const metadata = metadataOf(row);
    const refuse = (status: number, reason: string, message: string): WebReply => ({
      status,
      body: { ok: false, sessionId: row.id, reason, message, durationMs: 0 },
    });
    if (metadata.flavor !== 'cursor')
      return refuse(409, 'not_cursor_session', 'session.metadata.flavor must be "cursor"');
    if (metadata.cursorSessionProtocol === 'acp')
      return refuse(409, 'already_acp', 'session already runs over ACP; nothing to migrate');
    const cursorSessionId = typeof metadata.cursorSessionId === 'string' ? metadata.cursorSessionId.trim() : '';
    if (!cursorSessionId) return refuse(409, 'no_cursor_session_id', 'session.metadata.cursorSessionId is missing');
    if (!CURSOR_SESSION_ID.test(cursorSessionId) || cursorSessionId === '.' || cursorSessionId === '..')
      return refuse(409, 'no_cursor_session_id', `cursorSessionId '${cursorSessionId}' fails basename validation`);
    const running = metadata.lifecycleState === 'running' || row.live.active === true;
    if (running && body.forceArchiveRunning !== true)
      return refuse(409, 'running_refused', 'session is active; archive first or pass forceArchiveRunning');
    // The legacy chat store is a file on the machine's disk; upstream migrates it only when the
    // hub runs on that same host. A clustered hub never does.
    return refuse(
      500,
      'cross_host_session',
      `session recorded host=${String(metadata.host ?? '')} does not share a filesystem with this hub; cannot migrate a session whose files live on a different machine`,
    );
  }

  /** POST …/title-suggestion: upstream needs a configured title provider (HAPI_TITLE_PROVIDER_*). */
  titleSuggestion(): WebReply {
    return fail(503, 'Title suggestions are not configured on this Hub');
  }

  /** GET /api/machines/:id/opencode-model-variants[?cwd=]. */
  async opencodeModelVariants(namespace: string, machineId: string, cwd: string | null): Promise<WebReply> {
    try {
      const reply = await this.rpc.machine(namespace, machineId, 'listOpencodeModelVariants', { cwd });
      return isRecord(reply) ? ok(reply) : fail(500, 'Failed to list OpenCode model variants', { success: false });
    } catch (error) {
      if (error instanceof RpcTargetMissingError)
        return fail(503, error.message, { success: false, code: 'rpc_target_missing' });
      return rpcTransportReply(error, { success: false });
    }
  }
}
