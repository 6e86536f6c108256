// Single-process engine: plain maps, no dependencies. Each method does all of its work in one
// synchronous block (no await in between), which is what makes every primitive atomic here.
// Stored objects never leave the engine: inputs are cloned on the way in, rows on the way out.
import { randomUUID } from 'node:crypto';
import type {
  AppendedEvent,
  AppendMessageInput,
  AppendMessageResult,
  CasResult,
  CreateMachineInput,
  CreateSessionInput,
  Engine,
  EngineOptions,
  EventListener,
  EventReadResult,
  ExpiredPresence,
  GetOrCreateMachineResult,
  GetOrCreateSessionResult,
  LiveFields,
  MachineField,
  MachineRow,
  MessagePageQuery,
  MessagePosition,
  MessageRow,
  NamespaceRecord,
  PresenceKind,
  RefreshPresenceInput,
  RefreshPresenceResult,
  SessionField,
  SessionRow,
} from '../types.js';
import { EventFanout, NamespaceEventLog } from './event-log.js';
import { SessionMessageLog } from './message-log.js';
import { applyRefresh, PresenceDeadlines } from './presence.js';
import { EphemeralTable, LockTable, NamespaceRegistry } from './registry.js';

type SessionColumnsPatch = Parameters<Engine['updateSessionColumns']>[2];

const SESSION_COLUMNS = ['model', 'modelReasoningEffort', 'effort', 'serviceTier', 'pinned', 'globalPinned'] as const;

export class MemoryEngine implements Engine {
  readonly kind = 'memory' as const;

  // Ids are per namespace: every per-object map is keyed by scopedKey(ns, id).
  private readonly sessions = new Map<string, SessionRow>();
  /** Session → attached-socket count (adjustAttachedSockets). */
  private readonly attachedSockets = new Map<string, number>();
  /** scopedKey(ns, tag) → session id; tags are unique per namespace. */
  private readonly sessionIdByTag = new Map<string, string>();
  private readonly messageLogs = new Map<string, SessionMessageLog>();
  private readonly machines = new Map<string, MachineRow>();
  private readonly deadlines = new PresenceDeadlines();
  private readonly namespaces = new NamespaceRegistry();
  /** scopedKey(ns, method) → socket id. */
  private readonly rpcRoutes = new Map<string, string>();
  private readonly eventLogs = new Map<string, NamespaceEventLog>();
  private readonly fanout = new EventFanout();
  private readonly secrets = new Map<string, string>();
  private readonly locks = new LockTable();
  private readonly ephemeral = new EphemeralTable();

  constructor(private readonly options: EngineOptions) {}

  // Sessions -------------------------------------------------------------------------------

  async getOrCreateSession(ns: string, input: CreateSessionInput, now: number): Promise<GetOrCreateSessionResult> {
    const tagKey = scopedKey(ns, input.tag);
    const idForTag = this.sessionIdByTag.get(tagKey);
    const byTag = idForTag === undefined ? undefined : this.sessionIn(ns, idForTag);
    if (byTag) {
      if (input.id !== undefined && input.id !== byTag.id) return { ok: false, reason: 'tag-bound-to-other-id' };
      return { ok: true, session: structuredClone(byTag), created: false };
    }
    if (input.id !== undefined) {
      const byId = this.sessionIn(ns, input.id);
      if (byId) {
        if (byId.tag === input.tag) return { ok: true, session: structuredClone(byId), created: false };
        return { ok: false, reason: 'id-bound-to-other-session' };
      }
    }
    const session: SessionRow = {
      id: input.id ?? randomUUID(),
      namespace: ns,
      tag: input.tag,
      createdAt: now,
      updatedAt: now,
      seq: 0,
      metadata: structuredClone(input.metadata ?? null),
      metadataVersion: 1,
      agentState: structuredClone(input.agentState ?? null),
      agentStateVersion: 1,
      model: input.model ?? null,
      modelReasoningEffort: input.modelReasoningEffort ?? null,
      effort: input.effort ?? null,
      serviceTier: null,
      pinned: false,
      globalPinned: false,
      live: {},
    };
    this.sessions.set(scopedKey(ns, session.id), session);
    this.sessionIdByTag.set(tagKey, session.id);
    return { ok: true, session: structuredClone(session), created: true };
  }

  async getSession(ns: string, id: string): Promise<SessionRow | null> {
    const session = this.sessionIn(ns, id);
    return session ? structuredClone(session) : null;
  }

  async listSessions(ns: string): Promise<SessionRow[]> {
    return [...this.sessions.values()].filter((session) => session.namespace === ns).map((session) => structuredClone(session));
  }

  async compareAndSetSession(
    ns: string,
    id: string,
    field: SessionField,
    expectedVersion: number,
    value: unknown,
    opts: { now: number; touchUpdatedAt: boolean },
  ): Promise<CasResult> {
    const session = this.sessionIn(ns, id);
    if (!session) return { result: 'not-found' };
    const versionKey = field === 'metadata' ? 'metadataVersion' : 'agentStateVersion';
    if (session[versionKey] !== expectedVersion) {
      return { result: 'version-mismatch', version: session[versionKey], value: structuredClone(session[field]) };
    }
    session[field] = structuredClone(value);
    session[versionKey] += 1;
    session.seq += 1;
    if (opts.touchUpdatedAt) session.updatedAt = Math.max(session.updatedAt, opts.now);
    return { result: 'success', version: session[versionKey], value: structuredClone(session[field]) };
  }

  async updateSessionColumns(ns: string, id: string, patch: SessionColumnsPatch): Promise<SessionRow | null> {
    const session = this.sessionIn(ns, id);
    if (!session) return null;
    for (const column of SESSION_COLUMNS) {
      const value = patch[column];
      if (value !== undefined) Object.assign(session, { [column]: value });
    }
    if (patch.updatedAt !== undefined) session.updatedAt = Math.max(session.updatedAt, patch.updatedAt);
    session.seq += 1;
    return structuredClone(session);
  }

  async adjustAttachedSockets(ns: string, sessionId: string, delta: 1 | -1): Promise<void> {
    if (!this.sessionIn(ns, sessionId)) return;
    const key = scopedKey(ns, sessionId);
    this.attachedSockets.set(key, Math.max(0, (this.attachedSockets.get(key) ?? 0) + delta));
  }

  async deleteSession(ns: string, id: string): Promise<boolean> {
    const session = this.sessionIn(ns, id);
    if (!session) return false;
    const key = scopedKey(ns, id);
    this.sessions.delete(key);
    this.attachedSockets.delete(key);
    this.sessionIdByTag.delete(scopedKey(ns, session.tag));
    this.messageLogs.delete(key);
    this.deadlines.remove(ns, 'session', id);
    return true;
  }

  // Machines -------------------------------------------------------------------------------

  async getOrCreateMachine(ns: string, input: CreateMachineInput, now: number): Promise<GetOrCreateMachineResult> {
    const existing = this.machineIn(ns, input.id);
    if (existing) return { machine: structuredClone(existing), created: false };
    const machine: MachineRow = {
      id: input.id,
      namespace: ns,
      createdAt: now,
      updatedAt: now,
      seq: 0,
      metadata: structuredClone(input.metadata ?? null),
      metadataVersion: 1,
      runnerState: structuredClone(input.runnerState ?? null),
      runnerStateVersion: 1,
      live: {},
    };
    this.machines.set(scopedKey(ns, machine.id), machine);
    return { machine: structuredClone(machine), created: true };
  }

  async getMachine(ns: string, id: string): Promise<MachineRow | null> {
    const machine = this.machineIn(ns, id);
    return machine ? structuredClone(machine) : null;
  }

  async listMachines(ns: string): Promise<MachineRow[]> {
    return [...this.machines.values()].filter((machine) => machine.namespace === ns).map((machine) => structuredClone(machine));
  }

  async compareAndSetMachine(
    ns: string,
    id: string,
    field: MachineField,
    expectedVersion: number,
    value: unknown,
    opts: { now: number },
  ): Promise<CasResult> {
    const machine = this.machineIn(ns, id);
    if (!machine) return { result: 'not-found' };
    const versionKey = field === 'metadata' ? 'metadataVersion' : 'runnerStateVersion';
    if (machine[versionKey] !== expectedVersion) {
      return { result: 'version-mismatch', version: machine[versionKey], value: structuredClone(machine[field]) };
    }
    machine[field] = structuredClone(value);
    machine[versionKey] += 1;
    machine.seq += 1;
    machine.updatedAt = opts.now;
    return { result: 'success', version: machine[versionKey], value: structuredClone(machine[field]) };
  }

  // Messages -------------------------------------------------------------------------------

  async appendMessage(ns: string, sessionId: string, input: AppendMessageInput): Promise<AppendMessageResult> {
    if (!this.sessionIn(ns, sessionId)) return { ok: false, reason: 'session-not-found' };
    const key = scopedKey(ns, sessionId);
    let log = this.messageLogs.get(key);
    if (!log) {
      log = new SessionMessageLog(sessionId, this.options.messageHistoryLimit);
      this.messageLogs.set(key, log);
    }
    // The log hands out rows that share nothing with what it stores: no clone needed.
    const { row: message, inserted } = log.append(input);
    const attachedSockets = this.attachedSockets.get(key) ?? 0;
    if (!inserted || !input.event) return { ok: true, message, inserted, attachedSockets };
    // Same synchronous block as the append: no other write can come between the two.
    const event = this.appendEventNow(ns, input.event.before + String(message.seq) + input.event.after);
    return { ok: true, message, inserted, event, attachedSockets };
  }

  async listMessagesAfterSeq(ns: string, sessionId: string, afterSeq: number, limit: number): Promise<MessageRow[]> {
    return this.messageLogIn(ns, sessionId)?.listAfterSeq(afterSeq, limit) ?? [];
  }

  async pageMessages(ns: string, sessionId: string, query: MessagePageQuery): Promise<MessageRow[]> {
    return this.messageLogIn(ns, sessionId)?.page(query) ?? [];
  }

  async getMessageHead(ns: string, sessionId: string): Promise<MessagePosition | null> {
    return this.messageLogIn(ns, sessionId)?.head() ?? null;
  }

  async listQueuedMessages(ns: string, sessionId: string): Promise<MessageRow[]> {
    return this.messageLogIn(ns, sessionId)?.queued() ?? [];
  }

  async getMessagesByLocalIds(ns: string, sessionId: string, localIds: string[]): Promise<MessageRow[]> {
    return this.messageLogIn(ns, sessionId)?.byLocalIds(localIds) ?? [];
  }

  async getMessage(ns: string, sessionId: string, idOrLocalId: string): Promise<MessageRow | null> {
    return this.messageLogIn(ns, sessionId)?.find(idOrLocalId) ?? null;
  }

  async markMessagesInvoked(ns: string, sessionId: string, localIds: string[], invokedAt: number): Promise<string[]> {
    return this.messageLogIn(ns, sessionId)?.markInvoked(localIds, invokedAt) ?? [];
  }

  async deleteMessage(ns: string, sessionId: string, id: string): Promise<boolean> {
    return this.messageLogIn(ns, sessionId)?.delete(id) ?? false;
  }

  async getMessageEpoch(ns: string, sessionId: string): Promise<number> {
    return this.messageLogIn(ns, sessionId)?.epoch ?? 0;
  }

  // Presence / live state ------------------------------------------------------------------

  async refreshPresence(ns: string, kind: PresenceKind, id: string, input: RefreshPresenceInput): Promise<RefreshPresenceResult> {
    const row = this.liveRowIn(ns, kind, id);
    if (!row) return { found: false, becameActive: false, changed: [], broadcastDue: false, live: {}, queued: 0 };
    const outcome = applyRefresh(row.live, input);
    this.deadlines.set(ns, kind, id, input.deadline);
    const queued = kind === 'session' ? (this.messageLogs.get(scopedKey(ns, id))?.queuedCount() ?? 0) : 0;
    return { found: true, ...outcome, live: { ...row.live }, queued };
  }

  async setLiveFields(ns: string, kind: PresenceKind, id: string, fields: LiveFields): Promise<LiveFields | null> {
    const row = this.liveRowIn(ns, kind, id);
    if (!row) return null;
    Object.assign(row.live, fields);
    return { ...row.live };
  }

  async markInactive(ns: string, kind: PresenceKind, id: string, fields: LiveFields): Promise<{ wasActive: boolean }> {
    const row = this.liveRowIn(ns, kind, id);
    if (!row) return { wasActive: false };
    this.deadlines.remove(ns, kind, id);
    const wasActive = row.live.active === true;
    row.live.active = false;
    Object.assign(row.live, fields);
    return { wasActive };
  }

  async expireOverduePresence(now: number, limit: number): Promise<ExpiredPresence[]> {
    const expired = this.deadlines.takeOverdue(now, limit);
    for (const entry of expired) {
      const row = this.liveRowIn(entry.namespace, entry.kind, entry.id);
      if (!row) continue;
      row.live.active = false;
      if (entry.kind === 'session') row.live.thinking = false;
    }
    return expired;
  }

  // Namespace registry ---------------------------------------------------------------------

  async registerNamespace(ns: string, now: number): Promise<boolean> {
    return this.namespaces.register(ns, now);
  }

  async getNamespace(ns: string): Promise<NamespaceRecord | null> {
    return this.namespaces.get(ns);
  }

  async listNamespaces(): Promise<NamespaceRecord[]> {
    return this.namespaces.list();
  }

  async setNamespaceToken(ns: string, tokenHash: string, now: number): Promise<NamespaceRecord> {
    return this.namespaces.setToken(ns, tokenHash, now);
  }

  async revokeNamespace(ns: string): Promise<NamespaceRecord | null> {
    return this.namespaces.revoke(ns);
  }

  // RPC routing ----------------------------------------------------------------------------

  async setRpcRoute(ns: string, method: string, socketId: string): Promise<void> {
    this.rpcRoutes.set(scopedKey(ns, method), socketId);
  }

  async deleteRpcRoute(ns: string, method: string, socketId: string): Promise<void> {
    const key = scopedKey(ns, method);
    if (this.rpcRoutes.get(key) === socketId) this.rpcRoutes.delete(key);
  }

  async getRpcRoute(ns: string, method: string): Promise<string | null> {
    return this.rpcRoutes.get(scopedKey(ns, method)) ?? null;
  }

  // Event log (SSE) ------------------------------------------------------------------------

  async appendEvent(ns: string, json: string): Promise<AppendedEvent> {
    return this.appendEventNow(ns, json);
  }

  private appendEventNow(ns: string, json: string): AppendedEvent {
    const log = this.eventLogFor(ns);
    const stored = log.append(json);
    const event: AppendedEvent = { namespace: ns, epoch: log.epoch, offset: stored.offset, json };
    this.fanout.publish(event);
    return { ...event };
  }

  async readEvents(ns: string, afterOffset: number): Promise<EventReadResult> {
    // Creating the log on read fixes the epoch now, so a cursor taken from an empty log stays valid.
    return this.eventLogFor(ns).read(afterOffset);
  }

  async subscribeEvents(listener: EventListener): Promise<() => Promise<void>> {
    const unsubscribe = this.fanout.subscribe(listener);
    return async () => unsubscribe();
  }

  // Secrets and locks ----------------------------------------------------------------------

  async getOrSetSecret(name: string, candidate: string): Promise<string> {
    const stored = this.secrets.get(name);
    if (stored !== undefined) return stored;
    this.secrets.set(name, candidate);
    return candidate;
  }

  async acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.locks.acquire(name, owner, ttlMs);
  }

  async releaseLock(name: string, owner: string): Promise<void> {
    this.locks.release(name, owner);
  }

  async setEphemeral(key: string, value: string, ttlMs: number): Promise<void> {
    this.ephemeral.set(key, value, ttlMs);
  }

  async getEphemeral(key: string): Promise<string | null> {
    return this.ephemeral.get(key);
  }

  async deleteEphemeral(key: string): Promise<void> {
    this.ephemeral.delete(key);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.fanout.clear();
  }

  // Helpers --------------------------------------------------------------------------------

  private sessionIn(ns: string, id: string): SessionRow | undefined {
    return this.sessions.get(scopedKey(ns, id));
  }

  private machineIn(ns: string, id: string): MachineRow | undefined {
    return this.machines.get(scopedKey(ns, id));
  }

  private liveRowIn(ns: string, kind: PresenceKind, id: string): { live: LiveFields } | undefined {
    return kind === 'session' ? this.sessionIn(ns, id) : this.machineIn(ns, id);
  }

  private messageLogIn(ns: string, sessionId: string): SessionMessageLog | undefined {
    return this.messageLogs.get(scopedKey(ns, sessionId));
  }

  private eventLogFor(ns: string): NamespaceEventLog {
    let log = this.eventLogs.get(ns);
    if (!log) {
      log = new NamespaceEventLog({ maxEvents: this.options.eventLogMaxEvents, maxBytes: this.options.eventLogMaxBytes });
      this.eventLogs.set(ns, log);
    }
    return log;
  }
}

/** Map key of an object of one namespace; namespace names never contain a newline. */
function scopedKey(ns: string, id: string): string {
  return `${ns}\n${id}`;
}
