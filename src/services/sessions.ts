// Session lifecycle: creation, versioned writes, keep-alives, end. The only writer of session state.
import { randomUUID } from 'node:crypto';
import type {
  CasResult,
  LiveFields,
  RefreshPresenceResult,
  SessionColumnsPatch,
  SessionField,
  SessionRow,
} from '../engine/types.js';
import type { CreateSessionBody } from '../protocol/cli-rest.js';
import type { Session } from '../protocol/models.js';
import type { SessionAliveEvent, SessionEndReason, UpdateBody } from '../protocol/socket-events.js';
import { sessionAccess, type AccessFailure, type VersionedWriteOutcome } from './access.js';
import { AliveMemo } from './alive-memo.js';
import { clampAliveTime } from './alive-time.js';
import type { ServiceDeps } from './deps.js';
import { LimitsService } from './limits.js';
import type { MachineService } from './machines.js';
import type { PresenceBatcher } from './presence-batcher.js';
import { mergeSessionMetadata } from './metadata-merge.js';
import { isThinking, sessionToWire } from './wire.js';

export type CreateSessionOutcome = { ok: true; session: Session } | { ok: false; status: 409; error: string };

/** Keep-alive runtime keys that are also session columns. */
const RUNTIME_COLUMNS = ['model', 'modelReasoningEffort', 'effort', 'serviceTier'] as const;
const RUNTIME_LIVE_KEYS = ['permissionMode', 'collaborationMode', 'copilotAgentMode'] as const;
const RUNTIME_KEYS = [...RUNTIME_COLUMNS, ...RUNTIME_LIVE_KEYS] as const;

export class SessionService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly machines: MachineService,
    /** Keep-alives go through here: coalesced with other beats arriving within a few ms. */
    private readonly beats: PresenceBatcher,
  ) {
    const { aliveBroadcastThrottleMs, sessionTtlMs } = deps.timings;
    this.aliveMemo = new AliveMemo(aliveBroadcastThrottleMs, sessionTtlMs / 3, RUNTIME_KEYS);
  }

  /** Beats that repeat the last one sent are answered without the engine (alive-memo.ts). */
  private readonly aliveMemo: AliveMemo;

  /**
   * Keeps the keep-alive memo true: every event about a session (from any worker) is looked at,
   * and remembered beats nothing can use any more are dropped now and then. Returns the stop.
   */
  async watchEvents(): Promise<() => Promise<void>> {
    const unsubscribe = await this.deps.events.subscribe((appended) => this.aliveMemo.observe(appended));
    const prune = setInterval(() => this.aliveMemo.prune(this.now()), this.deps.timings.sessionTtlMs);
    prune.unref();
    return async () => {
      clearInterval(prune);
      await unsubscribe();
    };
  }

  private now(): number {
    return this.deps.clock();
  }

  toWire(row: SessionRow): Session {
    return sessionToWire(row, this.now());
  }

  access(namespace: string, id: string) {
    return sessionAccess(this.deps.engine, namespace, id);
  }

  async get(
    namespace: string,
    id: string,
  ): Promise<{ ok: true; session: Session; row: SessionRow } | { ok: false; reason: AccessFailure }> {
    const access = await this.access(namespace, id);
    if (!access.ok) return access;
    return { ok: true, session: this.toWire(access.row), row: access.row };
  }

  async list(namespace: string): Promise<Session[]> {
    const rows = await this.deps.engine.sessions.list(namespace);
    return rows.map((row) => this.toWire(row));
  }

  /** POST /cli/sessions. */
  async createOrLoad(namespace: string, body: CreateSessionBody): Promise<CreateSessionOutcome> {
    const result = await this.deps.engine.sessions.getOrCreate(
      namespace,
      {
        ...(body.id !== undefined ? { id: body.id } : {}),
        tag: body.tag,
        metadata: body.metadata ?? null,
        agentState: body.agentState ?? null,
        model: body.model ?? null,
        modelReasoningEffort: body.modelReasoningEffort ?? null,
        effort: body.effort ?? null,
      },
      this.now(),
    );
    if (!result.ok) {
      const error =
        result.reason === 'tag-bound-to-other-id'
          ? 'Session tag is already bound to a different id'
          : 'Session id is already bound to a different session';
      return { ok: false, status: 409, error };
    }
    if (result.created) {
      // Counted once created, so re-loading an existing session is never refused; a creation
      // over the quota is undone before anyone is told about it.
      const verdict = await this.deps.limits.reserve(namespace, 'sessions', 1);
      if (!verdict.ok) await this.deps.engine.sessions.delete(namespace, result.session.id);
      LimitsService.orThrow(verdict);
    }
    // The machine only once the session is settled, so a refused request (409) stores nothing.
    if (body.machine) {
      await this.machines.createOrLoad(namespace, {
        id: body.machine.id,
        metadata: body.machine.metadata,
        runnerState: body.machine.runnerState ?? null,
      });
    }
    const session = this.toWire(result.session);
    await this.deps.events.publish(namespace, {
      type: result.created ? 'session-added' : 'session-updated',
      sessionId: session.id,
      data: session,
    });
    return { ok: true, session };
  }

  /** update-metadata (CLI) — merge with upstream's carry-forward rules, then CAS. */
  updateMetadata(
    namespace: string,
    sid: string,
    expectedVersion: number,
    metadata: unknown,
    senderSocketId?: string,
  ): Promise<VersionedWriteOutcome> {
    return this.versionedWrite(
      namespace,
      sid,
      'metadata',
      expectedVersion,
      (prior) => mergeSessionMetadata(prior, metadata),
      senderSocketId,
    );
  }

  /** update-state (CLI) — plain CAS. */
  updateAgentState(
    namespace: string,
    sid: string,
    expectedVersion: number,
    agentState: unknown,
    senderSocketId?: string,
  ): Promise<VersionedWriteOutcome> {
    return this.versionedWrite(namespace, sid, 'agentState', expectedVersion, () => agentState ?? null, senderSocketId);
  }

  private async versionedWrite(
    namespace: string,
    sid: string,
    field: SessionField,
    expectedVersion: number,
    compute: (prior: unknown) => unknown,
    senderSocketId: string | undefined,
  ): Promise<VersionedWriteOutcome> {
    const access = await this.access(namespace, sid);
    if (!access.ok) return { result: 'error', reason: access.reason };
    const row = access.row;
    const storedVersion = field === 'metadata' ? row.metadataVersion : row.agentStateVersion;
    if (storedVersion !== expectedVersion) {
      return { result: 'version-mismatch', version: storedVersion, value: row[field] };
    }
    const now = this.now();
    const cas = await this.deps.engine.sessions.compareAndSet(
      namespace,
      sid,
      field,
      expectedVersion,
      compute(row[field]),
      { now, touchUpdatedAt: true },
    );
    if (cas.result === 'not-found') return { result: 'error', reason: 'not-found' };
    if (cas.result === 'success') {
      const versioned = { version: cas.version, value: cas.value };
      const body: UpdateBody =
        field === 'metadata'
          ? { t: 'update-session', sid, metadata: versioned, agentState: null }
          : { t: 'update-session', sid, metadata: null, agentState: versioned };
      this.deps.cli.emitUpdate(
        { kind: 'session', namespace, id: sid },
        { id: randomUUID(), seq: now, createdAt: now, body },
        senderSocketId,
      );
      await this.deps.events.publish(namespace, {
        type: 'session-updated',
        sessionId: sid,
        data: { [field]: versioned, updatedAt: Math.max(row.updatedAt, now) },
      });
    }
    return cas;
  }

  /**
   * Hub-side metadata write (rename, archive-from-hub): retried on version contention, never
   * pushed to the CLI (it learns through a version-mismatch on its next write, as upstream).
   */
  async writeMetadataFromHub(
    namespace: string,
    sid: string,
    change: (prior: Record<string, unknown>) => Record<string, unknown>,
    attempts = 5,
  ): Promise<'ok' | 'conflict' | AccessFailure> {
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      const access = await this.access(namespace, sid);
      if (!access.ok) return access.reason;
      const prior =
        typeof access.row.metadata === 'object' && access.row.metadata !== null
          ? (access.row.metadata as Record<string, unknown>)
          : {};
      const cas: CasResult = await this.deps.engine.sessions.compareAndSet(
        namespace,
        sid,
        'metadata',
        access.row.metadataVersion,
        change(prior),
        {
          now: this.now(),
          touchUpdatedAt: false,
        },
      );
      if (cas.result === 'not-found') return 'not-found';
      if (cas.result === 'success') {
        await this.publishFull(namespace, sid);
        return 'ok';
      }
    }
    return 'conflict';
  }

  /** Publishes the full Session as `session-updated` (used after hub-side writes). */
  async publishFull(namespace: string, sid: string): Promise<void> {
    const row = await this.deps.engine.sessions.get(namespace, sid);
    if (row) {
      await this.deps.events.publish(namespace, { type: 'session-updated', sessionId: sid, data: this.toWire(row) });
    }
  }

  /**
   * session-alive: one presence refresh on the common path (batched with other beats); SSE only when the
   * session became active, something visible changed, or the throttle window passed.
   * Returns the access failure, if any, so the transport can emit an `error`; on success, how
   * many prompts are still queued for the CLI (the refresh counts them in the same round trip).
   */
  async handleAlive(
    namespace: string,
    alive: SessionAliveEvent,
  ): Promise<AccessFailure | 'ignored' | { queued: number }> {
    const now = this.now();
    const time = clampAliveTime(alive.time, now);
    if (time === null) return 'ignored';
    // The fields a beat is compared by (everything but thinkingAt, which moves every beat).
    const compared: LiveFields = { cliThinking: alive.thinking === true };
    for (const key of RUNTIME_KEYS) {
      const value = alive[key];
      if (value !== undefined) compared[key] = value;
    }
    const comparedKey = AliveMemo.fieldsKey(compared);
    if (this.aliveMemo.canSkip(namespace, alive.sid, comparedKey, now)) return { queued: 0 };
    const fields: LiveFields = { ...compared, thinkingAt: time };
    const beat = this.aliveMemo.beginSend(namespace, alive.sid);
    let result: RefreshPresenceResult;
    try {
      result = await this.beats.refresh(namespace, 'session', alive.sid, {
        deadline: now + this.deps.timings.sessionTtlMs,
        activeAt: time,
        fields,
        quietFields: ['thinkingAt'],
        now,
        broadcastThrottleMs: this.deps.timings.aliveBroadcastThrottleMs,
      });
    } catch (error) {
      this.aliveMemo.settle(beat, null);
      throw error;
    }
    // Settled before this beat's own broadcast goes out, so that event cannot mark it stale.
    this.aliveMemo.settle(beat, { fieldsKey: comparedKey, fields: compared, at: now, result });
    if (!result.found) {
      const access = await this.access(namespace, alive.sid);
      return access.ok ? 'ignored' : access.reason;
    }
    let live = result.live;
    if (result.changed.includes('cliThinking') || result.becameActive) {
      // A turn starts when the CLI starts thinking and ends when it stops.
      const turnStart = alive.thinking === true ? time : null;
      if ((live.activeTurnStartedAt ?? null) !== turnStart) {
        live =
          (await this.deps.engine.presence.setLiveFields(namespace, 'session', alive.sid, {
            activeTurnStartedAt: turnStart,
          })) ?? live;
      }
    }
    const changedColumns = RUNTIME_COLUMNS.filter((key) => result.changed.includes(key));
    if (changedColumns.length > 0) {
      const patch: Record<string, string | null> = {};
      for (const key of changedColumns) patch[key] = (fields[key] as string | null | undefined) ?? null;
      await this.deps.engine.sessions.updateColumns(namespace, alive.sid, patch);
    }
    if (result.broadcastDue) {
      const data: Record<string, unknown> = {
        active: true,
        activeAt: live.activeAt,
        thinking: isThinking(live, now),
        activeTurnStartedAt: live.activeTurnStartedAt ?? null,
      };
      for (const key of RUNTIME_KEYS) {
        if (live[key] !== undefined) data[key] = live[key];
      }
      await this.deps.events.publish(namespace, { type: 'session-updated', sessionId: alive.sid, data });
    }
    return { queued: result.queued };
  }

  /** session-end (CLI) and the hub's own end after archive. */
  async end(namespace: string, sid: string, reason: SessionEndReason | undefined): Promise<void> {
    this.aliveMemo.forget(namespace, sid);
    const { wasActive } = await this.deps.engine.presence.markInactive(namespace, 'session', sid, {
      cliThinking: false,
      queuedThinkingUntil: 0,
      activeTurnStartedAt: null,
      backgroundTaskCount: 0,
    });
    if (wasActive) {
      await this.deps.events.publish(namespace, {
        type: 'session-updated',
        sessionId: sid,
        data: { active: false, thinking: false, activeTurnStartedAt: null, backgroundTaskCount: 0 },
      });
    }
    await this.deps.events.publish(namespace, { type: 'session-ended', sessionId: sid, ...(reason ? { reason } : {}) });
  }

  /** A CLI socket joined (+1) or left (-1) the session's room (see Engine.sessions.adjustAttachedSockets). */
  async countAttachedSocket(namespace: string, sid: string, delta: 1 | -1): Promise<void> {
    await this.deps.engine.sessions.adjustAttachedSockets(namespace, sid, delta);
  }

  /** Marks activity (user prompt, consumed messages): updatedAt is max-monotonic. */
  async touchUpdatedAt(namespace: string, sid: string, at: number): Promise<void> {
    const row = await this.deps.engine.sessions.updateColumns(namespace, sid, { updatedAt: at });
    if (row && row.updatedAt === at) {
      await this.deps.events.publish(namespace, { type: 'session-updated', sessionId: sid, data: { updatedAt: at } });
    }
  }

  /** Stores non-versioned columns and announces the full session. */
  /** The stored row, or null when this namespace has no such session. */
  async row(namespace: string, sid: string): Promise<SessionRow | null> {
    return this.deps.engine.sessions.get(namespace, sid);
  }

  /** Hub-side live values (e.g. a web-applied permission mode) shown on the wire Session. */
  async setLiveFields(namespace: string, sid: string, fields: LiveFields): Promise<void> {
    await this.deps.engine.presence.setLiveFields(namespace, 'session', sid, fields);
  }

  async updateColumns(namespace: string, sid: string, patch: SessionColumnsPatch): Promise<void> {
    await this.deps.engine.sessions.updateColumns(namespace, sid, patch);
    await this.publishFull(namespace, sid);
  }

  async remove(namespace: string, sid: string): Promise<'ok' | 'active' | AccessFailure> {
    const access = await this.access(namespace, sid);
    if (!access.ok) return access.reason;
    if (access.row.live.active === true) return 'active';
    await this.discard(namespace, sid);
    return 'ok';
  }

  /**
   * Deletes a session whatever its state (the hub's own cleanup, e.g. a fork child whose spawn
   * failed): the row, its messages and presence, its client documents, its share of the
   * namespace's quotas; SSE session-removed.
   */
  async discard(namespace: string, sid: string): Promise<void> {
    const bytes = await this.storedBytes(namespace, sid);
    await this.deps.engine.sessions.delete(namespace, sid);
    // The session's client documents (scratchlist and its attachments) go with it.
    await this.deps.engine.documents.deleteOwner(namespace, sid);
    await this.deps.limits.release(namespace, 'sessions', 1);
    await this.deps.limits.release(namespace, 'historyBytes', bytes);
    await this.deps.events.publish(namespace, { type: 'session-removed', sessionId: sid });
  }

  /**
   * Message bytes the session holds, as counted against `historyBytes`: sized from the content,
   * not from the rows' stored countedBytes, because rows stored before those were kept (an
   * upgraded hub's) were counted at this size too and have no stored count.
   */
  private async storedBytes(namespace: string, sid: string): Promise<number> {
    let total = 0;
    for (let after = 0; ; ) {
      const rows = await this.deps.engine.messages.listAfterSeq(namespace, sid, after, 500);
      for (const row of rows) total += this.deps.limits.messageBytes(row.content);
      const last = rows[rows.length - 1];
      if (!last || rows.length < 500) return total;
      after = last.seq;
    }
  }
}
