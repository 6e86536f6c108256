// What the web does to a session beyond messages: abort, archive, delete, rename, resume/reopen,
// permission decisions and the runtime config (permission mode, model). Each operation returns
// upstream's status/body table (docs/protocol.md#web-api); RPC transport failures that upstream let
// escape as plain-text 500s answer 503/504 JSON instead (docs/protocol.md#rpc-transport-failures).
import type { Machine } from '../../protocol/models.js';
import type { Clock } from '../../services/clock.js';
import type { Services } from '../../services/index.js';
import type { MachineService } from '../../services/machines.js';
import type { MessageService } from '../../services/messages.js';
import type { SessionRow } from '../../services/model.js';
import {
  MODEL_LOCKED_WHEN_CONTROLLED_BY_USER,
  flavorOf,
  permissionModesFor,
  supportsModelChange,
  type ApproveBody,
  type DenyBody,
  type ModelValue,
} from '../../protocol/web-rest.js';
import type { LiveEventSource } from '../live-events.js';
import type { AccessFailure } from '../../services/access.js';
import { RpcTargetMissingError } from '../../services/errors.js';
import type { RpcGateway } from '../../services/rpc-gateway.js';
import { AGENT_SESSION_ID_FIELDS, agentSessionIdOf } from '../../services/session-summary.js';
import type { SessionService } from '../../services/sessions.js';
import { fail, ok, rpcTransportReply, type WebReply } from './reply.js';
import { HTTP_ERRORS } from '../../http/reply.js';

export const CONCURRENT_MODIFICATION = 'Session was modified concurrently. Please try again.';
/** Upstream waits this long for a resumed session's CLI to come alive. */
export const RESUME_ACTIVE_TIMEOUT_MS = 15_000;

const ARCHIVE_FIELDS = ['lifecycleState', 'lifecycleStateSince', 'archivedBy', 'archiveReason'] as const;

export type ResumeErrorCode = 'no_machine_online' | 'session_not_found' | 'resume_unavailable' | 'resume_failed';
const RESUME_STATUS: Record<ResumeErrorCode, number> = {
  no_machine_online: 503,
  session_not_found: 404,
  resume_unavailable: 409,
  resume_failed: 500,
};

type ResumeOutcome = { ok: true; sessionId: string } | { ok: false; code: ResumeErrorCode; message: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function metadataOf(row: SessionRow): Record<string, unknown> | null {
  return isRecord(row.metadata) ? row.metadata : null;
}

function controlledByUser(row: SessionRow): boolean {
  return isRecord(row.agentState) && row.agentState.controlledByUser === true;
}

function metadataWriteReply(result: 'ok' | 'conflict' | AccessFailure): WebReply | null {
  if (result === 'ok') return null;
  if (result === 'conflict') return fail(409, CONCURRENT_MODIFICATION);
  // The only other outcome: no such session in this namespace.
  return HTTP_ERRORS.sessionNotFound;
}

/** The CLI must answer `{applied:{<key>: …}}`; anything else is a refusal (upstream → 409). */
function configRefusal(reply: unknown, key: string): string | null {
  if (isRecord(reply) && typeof reply.error === 'string' && reply.error.length > 0) return reply.error;
  if (!isRecord(reply) || !isRecord(reply.applied)) return 'Missing applied session config';
  if (!(key in reply.applied)) return `Session did not apply ${key}`;
  return null;
}

export class SessionActions {
  private readonly sessions: SessionService;
  private readonly machines: MachineService;
  private readonly messages: MessageService;
  private readonly clock: Clock;

  constructor(
    services: Services,
    private readonly rpc: RpcGateway,
    private readonly live: LiveEventSource,
    private readonly resumeTimeoutMs = RESUME_ACTIVE_TIMEOUT_MS,
  ) {
    this.sessions = services.sessions;
    this.machines = services.machines;
    this.messages = services.messages;
    this.clock = services.deps.clock;
  }

  private isActive(row: SessionRow): boolean {
    return row.live.active === true;
  }

  /** POST …/abort (route requires active). A CLI-side `{error}` is ignored, as upstream. */
  async abort(namespace: string, sid: string): Promise<WebReply> {
    try {
      await this.rpc.abort(namespace, sid);
    } catch (error) {
      return rpcTransportReply(error);
    }
    return ok();
  }

  /** POST …/archive. */
  async archive(namespace: string, row: SessionRow): Promise<WebReply> {
    const lifecycleState = metadataOf(row)?.lifecycleState;
    if (!this.isActive(row)) {
      if (lifecycleState === 'archived') return ok({ ok: true, alreadyArchived: true });
      if (lifecycleState !== 'running') return fail(409, 'Session is inactive');
    }
    try {
      await this.rpc.killSession(namespace, row.id);
    } catch (error) {
      if (!(error instanceof RpcTargetMissingError)) return rpcTransportReply(error);
      // Nobody can archive it on the CLI side, so the hub records the archive itself.
      const now = this.clock();
      const written = await this.sessions.writeMetadataFromHub(namespace, row.id, (prior) => ({
        ...prior,
        lifecycleState: 'archived',
        lifecycleStateSince: now,
        archivedBy: 'hub',
        archiveReason: 'Archived from hub (CLI unreachable)',
      }));
      const failure = metadataWriteReply(written);
      if (failure) return failure;
    }
    await this.sessions.end(namespace, row.id, undefined);
    return ok();
  }

  /** DELETE /api/sessions/:id. */
  async remove(namespace: string, sid: string): Promise<WebReply> {
    const result = await this.sessions.remove(namespace, sid);
    if (result === 'active') return fail(409, 'Cannot delete active session. Archive it first.');
    if (result !== 'ok') return HTTP_ERRORS.sessionNotFound;
    return ok();
  }

  /** PATCH /api/sessions/:id — never touches updatedAt, never tells the CLI (as upstream). */
  async rename(namespace: string, sid: string, name: string): Promise<WebReply> {
    const written = await this.sessions.writeMetadataFromHub(namespace, sid, (prior) => ({ ...prior, name }));
    return metadataWriteReply(written) ?? ok();
  }

  hasPendingRequest(row: SessionRow, requestId: string): boolean {
    const requests = isRecord(row.agentState) ? row.agentState.requests : undefined;
    return isRecord(requests) && Object.hasOwn(requests, requestId);
  }

  /** POST …/permissions/:requestId/approve (route: active, body). */
  async approve(row: SessionRow, requestId: string, body: ApproveBody): Promise<WebReply> {
    if (!this.hasPendingRequest(row, requestId)) return fail(404, 'Request not found');
    if (body.mode !== undefined && !permissionModesFor(flavorOf(row.metadata)).includes(body.mode)) {
      return fail(400, 'Invalid permission mode for session flavor');
    }
    try {
      await this.rpc.permission(row.namespace, row.id, {
        id: requestId,
        approved: true,
        mode: body.mode,
        allowTools: body.allowTools,
        decision: body.decision,
        answers: body.answers,
      });
    } catch (error) {
      return rpcTransportReply(error);
    }
    return ok();
  }

  /** POST …/permissions/:requestId/deny (route: active, request exists, body). */
  async deny(row: SessionRow, requestId: string, body: DenyBody): Promise<WebReply> {
    try {
      await this.rpc.permission(row.namespace, row.id, { id: requestId, approved: false, decision: body.decision });
    } catch (error) {
      return rpcTransportReply(error);
    }
    return ok();
  }

  /**
   * Active: the CLI must apply the key first (RPC `set-session-config`). Inactive: stored only,
   * used by the next resume/spawn. Returns a failure reply, or null when the caller may store.
   */
  private async applyConfig(row: SessionRow, key: string, value: unknown): Promise<WebReply | null> {
    if (!this.isActive(row)) return null;
    let reply: unknown;
    try {
      reply = await this.rpc.setSessionConfig(row.namespace, row.id, { [key]: value });
    } catch (error) {
      return rpcTransportReply(error);
    }
    const refusal = configRefusal(reply, key);
    return refusal === null ? null : fail(409, refusal);
  }

  /** POST …/permission-mode (active not required, as upstream). */
  async setPermissionMode(namespace: string, row: SessionRow, mode: string): Promise<WebReply> {
    const flavor = flavorOf(row.metadata);
    const modes = permissionModesFor(flavor);
    if (modes.length === 0) return fail(400, 'Permission mode not supported for session flavor');
    if (!modes.includes(mode)) return fail(400, 'Invalid permission mode for session flavor');
    if (flavor === 'opencode' && mode === 'plan' && controlledByUser(row)) {
      return fail(409, 'Plan mode cannot be enabled while the session is controlled from the terminal');
    }
    const refused = await this.applyConfig(row, 'permissionMode', mode);
    if (refused) return refused;
    // The live value is what the wire Session shows; the metadata copy survives restarts.
    await this.sessions.setLiveFields(namespace, row.id, { permissionMode: mode });
    const written = await this.sessions.writeMetadataFromHub(namespace, row.id, (prior) => ({
      ...prior,
      preferredPermissionMode: mode,
    }));
    return metadataWriteReply(written) ?? ok();
  }

  /** POST …/model (route requires active). */
  async setModel(namespace: string, row: SessionRow, model: ModelValue): Promise<WebReply> {
    const flavor = flavorOf(row.metadata);
    if (!supportsModelChange(flavor)) return fail(400, 'Model change not supported for session flavor');
    if (MODEL_LOCKED_WHEN_CONTROLLED_BY_USER.includes(flavor) && controlledByUser(row)) {
      return fail(409, 'Model cannot be changed while the session is controlled from the terminal');
    }
    const refused = await this.applyConfig(row, 'model', model);
    if (refused) return refused;
    const column = model === null ? null : typeof model === 'string' ? model : model.modelId;
    if (model !== null && typeof model === 'object') {
      const written = await this.sessions.writeMetadataFromHub(namespace, row.id, (prior) => ({
        ...prior,
        piSelectedModel: model,
      }));
      const failure = metadataWriteReply(written);
      if (failure) return failure;
    }
    await this.sessions.setLiveFields(namespace, row.id, { model: column });
    await this.sessions.updateColumns(namespace, row.id, { model: column });
    return ok();
  }

  /** POST …/resume. */
  async resume(namespace: string, row: SessionRow, permissionMode: string | undefined): Promise<WebReply> {
    if (permissionMode !== undefined && !permissionModesFor(flavorOf(row.metadata)).includes(permissionMode)) {
      return fail(400, 'Invalid permission mode for session flavor');
    }
    const outcome = await this.resumeSession(namespace, row, permissionMode);
    if (!outcome.ok) return fail(RESUME_STATUS[outcome.code], outcome.message, { code: outcome.code });
    return ok({ type: 'success', sessionId: outcome.sessionId });
  }

  /** POST …/reopen: resume, un-archiving first when needed (restored if the resume fails). */
  async reopen(namespace: string, row: SessionRow): Promise<WebReply> {
    if (this.isActive(row)) return ok({ ok: true, sessionId: row.id, resumed: false });
    const metadata = metadataOf(row);
    if (metadata?.lifecycleState !== 'archived')
      return this.reopenReply(await this.resumeSession(namespace, row, undefined));

    if (
      metadata.flavor === 'cursor' &&
      typeof metadata.cursorSessionId !== 'string' &&
      (await this.messages.hasAny(namespace, row.id))
    ) {
      return fail(422, 'Cursor session is missing its chat id and cannot be reopened', {
        missing: ['cursorSessionId'],
      });
    }
    const saved = Object.fromEntries(
      ARCHIVE_FIELDS.filter((key) => key in metadata).map((key) => [key, metadata[key]]),
    );
    const now = this.clock();
    const unarchived = await this.sessions.writeMetadataFromHub(namespace, row.id, (prior) => {
      const next: Record<string, unknown> = { ...prior, lifecycleStateSince: now };
      delete next.lifecycleState;
      delete next.archivedBy;
      delete next.archiveReason;
      return next;
    });
    if (unarchived === 'conflict') return fail(409, CONCURRENT_MODIFICATION, { code: 'metadata_conflict' });
    if (unarchived !== 'ok') return HTTP_ERRORS.sessionNotFound;
    const fresh = await this.sessions.row(namespace, row.id);
    const outcome = await this.resumeSession(namespace, fresh ?? row, undefined);
    if (!outcome.ok) {
      await this.sessions.writeMetadataFromHub(namespace, row.id, (prior) => {
        const next: Record<string, unknown> = { ...prior };
        for (const key of ARCHIVE_FIELDS) delete next[key];
        return { ...next, ...saved };
      });
    }
    return this.reopenReply(outcome);
  }

  private reopenReply(outcome: ResumeOutcome): WebReply {
    if (!outcome.ok) return fail(RESUME_STATUS[outcome.code], outcome.message, { code: outcome.code });
    return ok({ ok: true, sessionId: outcome.sessionId, resumed: true });
  }

  /** An online machine of the namespace: the session's own, else one on the same host. */
  private async pickMachine(namespace: string, metadata: Record<string, unknown>): Promise<Machine | null> {
    const online = await this.machines.list(namespace, true);
    const own =
      typeof metadata.machineId === 'string' ? online.find((machine) => machine.id === metadata.machineId) : undefined;
    if (own) return own;
    return online.find((machine) => isRecord(machine.metadata) && machine.metadata.host === metadata.host) ?? null;
  }

  private async sessionIsActive(namespace: string, sid: string): Promise<boolean> {
    const row = await this.sessions.row(namespace, sid);
    return row !== null && row.live.active === true;
  }

  /**
   * Spawn the agent again with its native resume id, bound to the existing hub session id, then
   * wait until the session's CLI is alive. The wait is registered before the RPC (so an
   * activation racing the answer is not missed) and the stored state is checked as well.
   */
  private async resumeSession(
    namespace: string,
    row: SessionRow,
    permissionMode: string | undefined,
  ): Promise<ResumeOutcome> {
    const sid = row.id;
    if (this.isActive(row)) return { ok: true, sessionId: sid };
    const metadata = metadataOf(row);
    if (!metadata || typeof metadata.path !== 'string')
      return { ok: false, code: 'resume_unavailable', message: 'Session metadata missing path' };
    const flavor = flavorOf(metadata);
    const field = AGENT_SESSION_ID_FIELDS[flavor];
    const nativeId = field !== undefined ? metadata[field] : agentSessionIdOf(metadata);
    if (typeof nativeId !== 'string' || nativeId.length === 0)
      return { ok: false, code: 'resume_unavailable', message: 'Resume session ID unavailable' };
    const machine = await this.pickMachine(namespace, metadata);
    if (!machine) return { ok: false, code: 'no_machine_online', message: 'No machine online' };

    const targets = new Set([sid]);
    const deadline = Date.now() + this.resumeTimeoutMs;
    const waitForActive = (timeoutMs: number) =>
      this.live
        .waitFor(
          namespace,
          (event) =>
            (event.type === 'session-updated' || event.type === 'session-added') &&
            targets.has(event.sessionId) &&
            isRecord(event.data) &&
            event.data.active === true,
          timeoutMs,
        )
        .catch(() => null);
    let waiter = waitForActive(this.resumeTimeoutMs);

    const preferred =
      typeof metadata.preferredPermissionMode === 'string' ? metadata.preferredPermissionMode : undefined;
    const spawned = await this.rpc.spawnSession(namespace, machine.id, {
      directory: metadata.path,
      agent: flavor,
      model: row.model ?? undefined,
      effort: row.effort ?? undefined,
      modelReasoningEffort: row.modelReasoningEffort ?? undefined,
      serviceTier: row.serviceTier ?? undefined,
      permissionMode: permissionMode ?? preferred,
      resumeSessionId: nativeId,
      existingSessionId: sid,
    });
    if (spawned.type === 'error') return { ok: false, code: 'resume_failed', message: spawned.message };
    // The runner may have bound the agent to a different hub session; that one is what we wait on.
    const target = spawned.sessionId;
    targets.add(target);
    for (;;) {
      if (await this.sessionIsActive(namespace, target)) return { ok: true, sessionId: target };
      const event = await waiter;
      const remaining = deadline - Date.now();
      if (event === null || remaining <= 0) break;
      waiter = waitForActive(remaining);
    }
    if (await this.sessionIsActive(namespace, target)) return { ok: true, sessionId: target };
    return { ok: false, code: 'resume_failed', message: 'Session did not become active in time' };
  }
}
