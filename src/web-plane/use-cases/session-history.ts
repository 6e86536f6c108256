// Fork and rewind (POST /api/sessions/:id/fork|rewind), as upstream 0.30.7's hub does them.
//
// Fork: the CLI forks its agent's native conversation (RPC `fork-conversation` → {nativeSessionId,
// forkSession?, sessionId?}); a shared runtime names the child it registered itself (sessionId,
// accepted once it is there with forkedFrom = the source). Otherwise the hub then creates the child session (metadata derived from the source,
// transcript prefix copied), and asks the source's runner to start it (machine RPC
// `spawn-happy-session` with resumeSessionId = the native id, existingSessionId = the child,
// forkSession). A Claude fork only materialises when the child binds a native id of its own, so
// the answer waits for that (60 s; the child dying first fails it). A failed child is stopped
// (`stop-session`) and deleted.
//
// Rewind: the CLI rewinds its native history (RPC `rewind-conversation` → {success,
// truncateFromLocalId?, messages?}); the hub cuts its own history at that localId (the row and
// everything at or after its position; engine primitive messages.truncateFrom), appends the
// CLI's replacement rows, and publishes messages-invalidated {reason:'rewind',
// truncateFromLocalId}. A rewind whose outcome is unknown (timeout) marks the session's history
// diverged (500 hydrateFailed) and refuses further history actions.
//
// Both hold a cluster-wide lock per session for their whole run (upstream: an in-process set), so
// two workers never fork/rewind the same session at once.
import { randomUUID } from 'node:crypto';
import { flavorOf } from '../../protocol/web-rest.js';
import { LimitExceededError, RpcTargetMissingError } from '../../services/errors.js';
import type { MessageService } from '../../services/messages.js';
import type { MessageRow, SessionRow } from '../../services/model.js';
import type { RpcGateway } from '../../services/rpc-gateway.js';
import type { SessionService } from '../../services/sessions.js';
import type { LiveEventSource } from '../live-events.js';
import { fail, ok, type WebReply } from './reply.js';
import { sharedRuntimeChild } from './shared-runtime.js';

/** Longer than the fork's RPC (120 s) + spawn (30 s) + bind wait (60 s). */
const HISTORY_LOCK_MS = 240_000;
const CHILD_BIND_TIMEOUT_MS = 60_000;
/** Upstream gives a fork child this long to come alive before its inactivity counts as failure. */
const CHILD_START_GRACE_MS = 5_000;
const HISTORY_KEYS = [
  'conversationHistoryPoints',
  'conversationHistoryIndexes',
  'conversationHistoryTurns',
  'conversationHistoryEntryIds',
] as const;

type Metadata = Record<string, unknown>;
type Outcome<T> = { ok: true; value: T } | { ok: false; message: string; hydrateFailed?: boolean; code?: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function metadataOf(row: SessionRow): Metadata {
  return isRecord(row.metadata) ? row.metadata : {};
}

function historyCapabilities(metadata: Metadata): Record<string, unknown> {
  const capabilities = isRecord(metadata.capabilities) ? metadata.capabilities : {};
  return isRecord(capabilities.conversationHistory) ? capabilities.conversationHistory : {};
}

function refused(message: string): Outcome<never> {
  return { ok: false, message };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The rows a fork child starts with: invoked rows before the boundary (all of them without one). */
export function forkTranscriptPrefix(ordered: readonly MessageRow[], messageLocalId: string | undefined): MessageRow[] {
  let scoped = ordered;
  if (messageLocalId !== undefined) {
    const cut = ordered.findIndex((row) => row.localId === messageLocalId);
    if (cut < 0) throw new Error('Fork boundary message not found');
    scoped = ordered.slice(0, cut);
  }
  return scoped.filter((row) => row.invokedAt !== null);
}

/** Cluster-wide leased locks (the engine's coordination store). */
export interface HistoryLocks {
  acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean>;
  releaseLock(name: string, owner: string): Promise<void>;
}

export class SessionHistoryUseCase {
  constructor(
    private readonly sessions: SessionService,
    private readonly messages: MessageService,
    private readonly rpc: RpcGateway,
    private readonly locks: HistoryLocks,
    private readonly live: LiveEventSource,
  ) {}

  async fork(row: SessionRow, messageLocalId: string | undefined): Promise<WebReply> {
    const outcome = await this.locked(row, () => this.forkUnlocked(row, messageLocalId));
    return outcome.ok ? ok({ sessionId: outcome.value }) : fail(409, outcome.message);
  }

  async rewind(row: SessionRow, messageLocalId: string): Promise<WebReply> {
    const outcome = await this.locked(row, () => this.rewindUnlocked(row, messageLocalId));
    if (outcome.ok) return ok({ success: true });
    const hydrateFailed = outcome.hydrateFailed === true;
    return fail(hydrateFailed ? 500 : 409, outcome.message, {
      ...(outcome.code !== undefined ? { code: outcome.code } : {}),
      hydrateFailed,
    });
  }

  private async locked<T>(row: SessionRow, work: () => Promise<Outcome<T>>): Promise<Outcome<T>> {
    const lock = `history:${JSON.stringify([row.namespace, row.id])}`;
    const owner = randomUUID();
    if (!(await this.locks.acquireLock(lock, owner, HISTORY_LOCK_MS)))
      return refused('Conversation history action already in progress');
    try {
      return await work();
    } finally {
      await this.locks.releaseLock(lock, owner);
    }
  }

  /** Upstream's preconditions for either action, in its order and words. */
  private async idleRefusal(row: SessionRow): Promise<string | null> {
    const wire = this.sessions.toWire(row);
    const metadata = metadataOf(row);
    const shared = isRecord(metadata.capabilities) && metadata.capabilities.concurrentClients === true;
    if (!wire.active) return 'Session must be active';
    if (isRecord(row.agentState) && row.agentState.controlledByUser === true && !shared)
      return 'Conversation history actions require a remote session';
    if (wire.thinking) return 'Session is busy';
    if (metadata.conversationHistoryDiverged === true)
      return 'Conversation history is diverged; refuse further fork/rewind';
    if ((await this.messages.queued(row.namespace, row.id)).length > 0) return 'Session has queued messages';
    return null;
  }

  /** Stale localIds must fail before the CLI changes its agent's history. */
  private async boundaryRefusal(row: SessionRow, localId: string): Promise<string | null> {
    const boundary = await this.messages.find(row.namespace, row.id, localId);
    if (boundary?.localId !== localId || boundary.invokedAt === null)
      return 'History boundary message not found or not yet invoked';
    return null;
  }

  private async forkUnlocked(row: SessionRow, messageLocalId: string | undefined): Promise<Outcome<string>> {
    const idle = await this.idleRefusal(row);
    if (idle) return refused(idle);
    const history = historyCapabilities(metadataOf(row));
    if (messageLocalId !== undefined) {
      if (history.forkAtMessage !== true) return refused('Historical fork is not supported for this session');
      const boundary = await this.boundaryRefusal(row, messageLocalId);
      if (boundary) return refused(boundary);
    } else if (history.forkCurrent !== true) {
      return refused('Fork current is not supported for this session');
    }
    const before = metadataOf(row);
    const machineId = typeof before.machineId === 'string' ? before.machineId : '';
    const directory = typeof before.path === 'string' ? before.path : '';
    if (!machineId || !directory) return refused('Session is missing machine or path metadata');

    let native: unknown;
    try {
      native = await this.rpc.session(
        row.namespace,
        row.id,
        'fork-conversation',
        messageLocalId !== undefined ? { messageLocalId } : {},
      );
    } catch (error) {
      return refused(errorText(error));
    }
    const nativeSessionId =
      isRecord(native) && typeof native.nativeSessionId === 'string' ? native.nativeSessionId : '';
    if (!nativeSessionId) return refused('Native fork did not return a session id');
    const forkSession = isRecord(native) && native.forkSession === true;
    // A shared runtime forks into a session it registers itself: that one is the answer.
    if (isRecord(native) && typeof native.sessionId === 'string') {
      const child = await sharedRuntimeChild(this.sessions, row, native.sessionId, nativeSessionId);
      if (!child || metadataOf(child).forkedFrom !== row.id) return refused('Invalid shared-runtime fork binding');
      return { ok: true, value: child.id };
    }

    // The CLI may have written metadata while forking: build the child from a fresh read.
    const source = await this.sessions.row(row.namespace, row.id);
    if (!source) return refused('Source session disappeared after native fork');
    let prefix: MessageRow[];
    try {
      prefix = forkTranscriptPrefix(await this.messages.all(row.namespace, row.id), messageLocalId);
    } catch (error) {
      return refused(errorText(error));
    }
    const metadata = this.childMetadata(source, machineId, directory, prefix, nativeSessionId, forkSession);
    const flavor = flavorOf(metadataOf(source));
    const childId = randomUUID();
    const model = flavor === 'pi' ? undefined : (source.model ?? undefined);
    const effort = flavor === 'pi' ? undefined : (source.effort ?? undefined);
    const wire = this.sessions.toWire(source);

    let spawnAttempted = false;
    const created = await this.sessions.createOrLoad(row.namespace, {
      id: childId,
      tag: `fork:${childId}`,
      metadata,
      ...(model !== undefined ? { model } : {}),
      ...(effort !== undefined ? { effort } : {}),
      ...(source.modelReasoningEffort ? { modelReasoningEffort: source.modelReasoningEffort } : {}),
    });
    if (!created.ok) return refused(created.error);
    try {
      await this.messages.copyInto(row.namespace, childId, prefix);
      spawnAttempted = true;
      const boundWait = flavor === 'claude' && forkSession ? this.waitForClaudeBind(row.namespace, childId) : null;
      const spawned = await this.rpc.spawnSession(row.namespace, machineId, {
        directory,
        agent: flavor,
        model,
        modelReasoningEffort: source.modelReasoningEffort ?? undefined,
        sessionType: 'simple',
        resumeSessionId: nativeSessionId,
        effort,
        permissionMode: wire.permissionMode,
        serviceTier: source.serviceTier ?? undefined,
        existingSessionId: childId,
        collaborationMode: wire.collaborationMode,
        forkSession,
      });
      if (spawned.type !== 'success') throw new Error(spawned.message);
      if (boundWait && !(await boundWait.until(nativeSessionId)))
        throw new Error('Claude fork did not materialize before timeout');
      boundWait?.stop();
      return { ok: true, value: childId };
    } catch (error) {
      try {
        await this.discardChild(row.namespace, childId, machineId, spawnAttempted);
      } catch (cleanupError) {
        return refused(`Fork failed; child cleanup was not confirmed: ${errorText(cleanupError)}`);
      }
      // Copying the history took the namespace over its historyBytes quota: a 429 like any other.
      if (error instanceof LimitExceededError) throw error;
      return refused(errorText(error));
    }
  }

  private childMetadata(
    source: SessionRow,
    machineId: string,
    directory: string,
    prefix: readonly MessageRow[],
    nativeSessionId: string,
    forkSession: boolean,
  ): Metadata {
    const metadata = metadataOf(source);
    const flavor = flavorOf(metadata);
    const copied = new Set(prefix.flatMap((row) => (row.localId !== null ? [row.localId] : [])));
    const title =
      (typeof metadata.name === 'string' ? metadata.name.trim() : '') ||
      (isRecord(metadata.summary) && typeof metadata.summary.text === 'string' ? metadata.summary.text.trim() : '');
    const child: Metadata = {
      path: directory,
      host: typeof metadata.host === 'string' ? metadata.host : 'unknown',
      machineId,
      flavor,
      ...(title ? { summary: { text: `Fork: ${title}`, updatedAt: Date.now() } } : {}),
      forkedFrom: source.id,
      startedBy: 'runner',
      ...(metadata.capabilities !== undefined ? { capabilities: metadata.capabilities } : {}),
    };
    for (const key of HISTORY_KEYS) {
      const entries = isRecord(metadata[key]) ? Object.entries(metadata[key]) : [];
      child[key] = Object.fromEntries(entries.filter(([localId]) => copied.has(localId)));
    }
    if (flavor === 'codex') child.codexSessionId = nativeSessionId;
    else if (flavor === 'grok') child.grokSessionId = nativeSessionId;
    else if (flavor === 'pi') child.piSessionId = nativeSessionId;
    // A Claude --fork-session child binds its own new id once it starts.
    else if (flavor === 'claude' && !forkSession) child.claudeSessionId = nativeSessionId;
    return child;
  }

  /**
   * Waits (from before the spawn, so no update is missed) until the child's metadata carries a
   * Claude session id other than the source's; false on timeout or when the child is not active
   * once its start grace has passed.
   */
  private waitForClaudeBind(namespace: string, childId: string) {
    const startedAt = Date.now();
    let stopped = false;
    const check = async (sourceNativeId: string): Promise<boolean | null> => {
      const child = await this.sessions.row(namespace, childId);
      const bound = child ? metadataOf(child).claudeSessionId : undefined;
      if (typeof bound === 'string' && bound.length > 0 && bound !== sourceNativeId) return true;
      if (child && child.live.active !== true && Date.now() - startedAt > CHILD_START_GRACE_MS) return false;
      return null;
    };
    const childChanged = (timeoutMs: number) =>
      this.live
        .waitFor(
          namespace,
          (event) =>
            (event.type === 'session-updated' || event.type === 'session-added') && event.sessionId === childId,
          timeoutMs,
        )
        .catch(() => null);
    let next = childChanged(CHILD_BIND_TIMEOUT_MS);
    return {
      stop: () => {
        stopped = true;
      },
      until: async (sourceNativeId: string): Promise<boolean> => {
        const deadline = startedAt + CHILD_BIND_TIMEOUT_MS;
        while (!stopped) {
          const verdict = await check(sourceNativeId);
          if (verdict !== null) return verdict;
          const remaining = deadline - Date.now();
          if (remaining <= 0) return false;
          // Re-check on the child's next update, and at the end of the start grace at the latest.
          const grace = startedAt + CHILD_START_GRACE_MS + 50 - Date.now();
          const tick = grace > 0 ? Math.min(grace, remaining) : remaining;
          await Promise.race([next, new Promise((resolve) => setTimeout(resolve, tick))]);
          next = childChanged(remaining);
        }
        return false;
      },
    };
  }

  /** Stops a failed fork child on its runner (if it was spawned) and deletes it. */
  private async discardChild(namespace: string, childId: string, machineId: string, spawned: boolean): Promise<void> {
    if (spawned) {
      const reply = await this.rpc.machine(namespace, machineId, 'stop-session', { sessionId: childId });
      const status = isRecord(reply) ? reply.status : undefined;
      if (status === 'still_alive') throw new Error('Fork child termination was not confirmed');
      if (status !== 'stopped' && status !== 'already_gone') throw new Error('Unexpected stop-session response');
    }
    await this.sessions.discard(namespace, childId);
  }

  private async rewindUnlocked(row: SessionRow, messageLocalId: string): Promise<Outcome<true>> {
    const idle = await this.idleRefusal(row);
    if (idle) return refused(idle);
    if (historyCapabilities(metadataOf(row)).rewindToMessage !== true)
      return refused('Rewind is not supported for this session');
    const boundary = await this.boundaryRefusal(row, messageLocalId);
    if (boundary) return refused(boundary);

    let reply: unknown;
    try {
      reply = await this.rpc.session(row.namespace, row.id, 'rewind-conversation', { messageLocalId });
    } catch (error) {
      if (error instanceof RpcTargetMissingError) return refused(error.message);
      // The CLI may or may not have rewound: the two histories can no longer be trusted to match.
      await this.markDiverged(row);
      return {
        ok: false,
        hydrateFailed: true,
        message: 'Rewind outcome is unknown; session history requires reconciliation',
      };
    }
    if (!isRecord(reply) || reply.success !== true) {
      const message = isRecord(reply) && typeof reply.error === 'string' ? reply.error : 'Native rewind failed';
      const code =
        isRecord(reply) && reply.success === false && typeof reply.code === 'string' ? reply.code : undefined;
      return { ok: false, message, ...(code !== undefined ? { code } : {}) };
    }
    const cutAt =
      typeof reply.truncateFromLocalId === 'string' && reply.truncateFromLocalId.length > 0
        ? reply.truncateFromLocalId
        : messageLocalId;
    const replacement = Array.isArray(reply.messages) ? reply.messages.filter(isRecord) : [];
    try {
      const cut = await this.messages.rewind(
        row.namespace,
        row.id,
        cutAt,
        replacement.map((message) => ({
          content: message.content,
          localId: typeof message.localId === 'string' ? message.localId : null,
          ...(typeof message.createdAt === 'number' ? { createdAt: message.createdAt } : {}),
          ...(typeof message.invokedAt === 'number' || message.invokedAt === null
            ? { invokedAt: message.invokedAt as number | null }
            : {}),
        })),
      );
      if (!cut) throw new Error(`Message not found for localId: ${cutAt}`);
      await this.scrubHistoryLocators(row);
      return { ok: true, value: true };
    } catch (error) {
      await this.markDiverged(row);
      return { ok: false, hydrateFailed: true, message: errorText(error) };
    }
  }

  /** Drops history locators (metadata maps keyed by localId) whose rows the rewind removed. */
  private async scrubHistoryLocators(row: SessionRow): Promise<void> {
    const remaining = new Set(
      (await this.messages.all(row.namespace, row.id)).flatMap((m) => (m.localId !== null ? [m.localId] : [])),
    );
    const current = await this.sessions.row(row.namespace, row.id);
    const stale = HISTORY_KEYS.some((key) => {
      const map = current ? metadataOf(current)[key] : undefined;
      return isRecord(map) && Object.keys(map).some((localId) => !remaining.has(localId));
    });
    if (!stale) return;
    await this.sessions.writeMetadataFromHub(row.namespace, row.id, (prior) => {
      const next: Metadata = isRecord(prior) ? { ...prior } : {};
      for (const key of HISTORY_KEYS) {
        if (!isRecord(next[key])) continue;
        const kept = Object.entries(next[key]).filter(([localId]) => remaining.has(localId));
        if (kept.length > 0) next[key] = Object.fromEntries(kept);
        else delete next[key];
      }
      return next;
    });
  }

  private async markDiverged(row: SessionRow): Promise<void> {
    await this.sessions.writeMetadataFromHub(row.namespace, row.id, (prior) => ({
      ...(isRecord(prior) ? prior : {}),
      conversationHistoryDiverged: true,
    }));
  }
}
