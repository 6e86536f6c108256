// The Redis engine: state shared by every worker on every host through one Redis (standalone,
// Sentinel or Cluster). This class only wires the parts together; each part owns one kind of
// state and its Lua scripts. See keys.ts for the key layout.
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
import { connectRedis, createRedisConnection, type RedisClient } from './connection.js';
import type { RedisContext } from './context.js';
import { RedisCoordination } from './coordination.js';
import { mapUnavailableErrors } from './errors.js';
import { RedisEventBus } from './event-bus.js';
import { RedisEventLog } from './event-log.js';
import { RedisMachines } from './machines.js';
import { RedisMessages } from './messages.js';
import { RedisNamespaces } from './namespaces.js';
import { RedisPresence } from './presence.js';
import { LuaScripts } from './scripts.js';
import { RedisSessions } from './sessions.js';

type SessionColumnsPatch = Parameters<Engine['updateSessionColumns']>[2];

/**
 * Connects (bounded: throws EngineUnavailableError when Redis cannot be reached) and returns the
 * engine. Afterwards a Redis outage makes calls reject with EngineUnavailableError while the
 * connection keeps retrying in the background; no call waits for Redis to come back.
 */
export async function createRedisEngine(url: string, options: EngineOptions): Promise<Engine> {
  const commands = createRedisConnection(url, 'commands');
  await connectRedis(commands);
  const subscriber = createRedisConnection(url, 'event-bus');
  return mapUnavailableErrors<Engine>(new RedisEngine(commands, subscriber, options));
}

class RedisEngine implements Engine {
  readonly kind = 'redis' as const;

  private readonly sessions: RedisSessions;
  private readonly machines: RedisMachines;
  private readonly messages: RedisMessages;
  private readonly presence: RedisPresence;
  private readonly namespaces: RedisNamespaces;
  private readonly coordination: RedisCoordination;
  private readonly eventLog: RedisEventLog;
  private readonly eventBus: RedisEventBus;

  constructor(
    private readonly client: RedisClient,
    subscriber: RedisClient,
    options: EngineOptions,
  ) {
    const context: RedisContext = { client, scripts: new LuaScripts(client), options };
    this.sessions = new RedisSessions(context);
    this.machines = new RedisMachines(context);
    this.messages = new RedisMessages(context);
    this.presence = new RedisPresence(context);
    this.namespaces = new RedisNamespaces(context);
    this.coordination = new RedisCoordination(context);
    this.eventLog = new RedisEventLog(context);
    this.eventBus = new RedisEventBus(subscriber);
  }

  // Sessions -------------------------------------------------------------------------------

  getOrCreateSession(ns: string, input: CreateSessionInput, now: number): Promise<GetOrCreateSessionResult> {
    return this.sessions.getOrCreate(ns, input, now);
  }

  getSession(ns: string, id: string): Promise<SessionRow | null> {
    return this.sessions.get(ns, id);
  }

  listSessions(ns: string): Promise<SessionRow[]> {
    return this.sessions.list(ns);
  }

  compareAndSetSession(
    ns: string,
    id: string,
    field: SessionField,
    expectedVersion: number,
    value: unknown,
    opts: { now: number; touchUpdatedAt: boolean },
  ): Promise<CasResult> {
    return this.sessions.compareAndSet(ns, id, field, expectedVersion, value, opts);
  }

  updateSessionColumns(ns: string, id: string, patch: SessionColumnsPatch): Promise<SessionRow | null> {
    return this.sessions.updateColumns(ns, id, patch);
  }

  deleteSession(ns: string, id: string): Promise<boolean> {
    return this.sessions.delete(ns, id);
  }

  adjustAttachedSockets(ns: string, sessionId: string, delta: 1 | -1): Promise<void> {
    return this.sessions.adjustAttached(ns, sessionId, delta);
  }

  // Machines -------------------------------------------------------------------------------

  getOrCreateMachine(ns: string, input: CreateMachineInput, now: number): Promise<GetOrCreateMachineResult> {
    return this.machines.getOrCreate(ns, input, now);
  }

  getMachine(ns: string, id: string): Promise<MachineRow | null> {
    return this.machines.get(ns, id);
  }

  listMachines(ns: string): Promise<MachineRow[]> {
    return this.machines.list(ns);
  }

  compareAndSetMachine(
    ns: string,
    id: string,
    field: MachineField,
    expectedVersion: number,
    value: unknown,
    opts: { now: number },
  ): Promise<CasResult> {
    return this.machines.compareAndSet(ns, id, field, expectedVersion, value, opts);
  }

  // Messages -------------------------------------------------------------------------------

  appendMessage(ns: string, sessionId: string, input: AppendMessageInput): Promise<AppendMessageResult> {
    return this.messages.append(ns, sessionId, input);
  }

  listMessagesAfterSeq(ns: string, sessionId: string, afterSeq: number, limit: number): Promise<MessageRow[]> {
    return this.messages.listAfterSeq(ns, sessionId, afterSeq, limit);
  }

  pageMessages(ns: string, sessionId: string, query: MessagePageQuery): Promise<MessageRow[]> {
    return this.messages.page(ns, sessionId, query);
  }

  getMessageHead(ns: string, sessionId: string): Promise<MessagePosition | null> {
    return this.messages.head(ns, sessionId);
  }

  listQueuedMessages(ns: string, sessionId: string): Promise<MessageRow[]> {
    return this.messages.listQueued(ns, sessionId);
  }

  getMessagesByLocalIds(ns: string, sessionId: string, localIds: string[]): Promise<MessageRow[]> {
    return this.messages.byLocalIds(ns, sessionId, localIds);
  }

  getMessage(ns: string, sessionId: string, idOrLocalId: string): Promise<MessageRow | null> {
    return this.messages.find(ns, sessionId, idOrLocalId);
  }

  markMessagesInvoked(ns: string, sessionId: string, localIds: string[], invokedAt: number): Promise<string[]> {
    return this.messages.markInvoked(ns, sessionId, localIds, invokedAt);
  }

  deleteMessage(ns: string, sessionId: string, id: string): Promise<boolean> {
    return this.messages.delete(ns, sessionId, id);
  }

  getMessageEpoch(ns: string, sessionId: string): Promise<number> {
    return this.messages.epoch(ns, sessionId);
  }

  // Presence / live state ------------------------------------------------------------------

  refreshPresence(ns: string, kind: PresenceKind, id: string, input: RefreshPresenceInput): Promise<RefreshPresenceResult> {
    return this.presence.refresh(ns, kind, id, input);
  }

  setLiveFields(ns: string, kind: PresenceKind, id: string, fields: LiveFields): Promise<LiveFields | null> {
    return this.presence.setLiveFields(ns, kind, id, fields);
  }

  markInactive(ns: string, kind: PresenceKind, id: string, fields: LiveFields): Promise<{ wasActive: boolean }> {
    return this.presence.markInactive(ns, kind, id, fields);
  }

  expireOverduePresence(now: number, limit: number): Promise<ExpiredPresence[]> {
    return this.presence.expireOverdue(now, limit);
  }

  // Namespace registry ---------------------------------------------------------------------

  registerNamespace(ns: string, now: number): Promise<boolean> {
    return this.namespaces.register(ns, now);
  }

  getNamespace(ns: string): Promise<NamespaceRecord | null> {
    return this.namespaces.get(ns);
  }

  listNamespaces(): Promise<NamespaceRecord[]> {
    return this.namespaces.list();
  }

  setNamespaceToken(ns: string, tokenHash: string, now: number): Promise<NamespaceRecord> {
    return this.namespaces.setToken(ns, tokenHash, now);
  }

  revokeNamespace(ns: string): Promise<NamespaceRecord | null> {
    return this.namespaces.revoke(ns);
  }

  // RPC routing ----------------------------------------------------------------------------

  setRpcRoute(ns: string, method: string, socketId: string): Promise<void> {
    return this.coordination.setRpcRoute(ns, method, socketId);
  }

  deleteRpcRoute(ns: string, method: string, socketId: string): Promise<void> {
    return this.coordination.deleteRpcRoute(ns, method, socketId);
  }

  getRpcRoute(ns: string, method: string): Promise<string | null> {
    return this.coordination.getRpcRoute(ns, method);
  }

  // Event log (SSE) ------------------------------------------------------------------------

  appendEvent(ns: string, json: string): Promise<AppendedEvent> {
    return this.eventLog.append(ns, json);
  }

  readEvents(ns: string, afterOffset: number): Promise<EventReadResult> {
    return this.eventLog.read(ns, afterOffset);
  }

  subscribeEvents(listener: EventListener): Promise<() => Promise<void>> {
    return this.eventBus.subscribe(listener);
  }

  // Secrets and locks ----------------------------------------------------------------------

  getOrSetSecret(name: string, candidate: string): Promise<string> {
    return this.coordination.getOrSetSecret(name, candidate);
  }

  acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.coordination.acquireLock(name, owner, ttlMs);
  }

  releaseLock(name: string, owner: string): Promise<void> {
    return this.coordination.releaseLock(name, owner);
  }

  setEphemeral(key: string, value: string, ttlMs: number): Promise<void> {
    return this.coordination.setEphemeral(key, value, ttlMs);
  }

  getEphemeral(key: string): Promise<string | null> {
    return this.coordination.getEphemeral(key);
  }

  deleteEphemeral(key: string): Promise<void> {
    return this.coordination.deleteEphemeral(key);
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    await this.eventBus.close();
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
