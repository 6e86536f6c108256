// What the memory engine's stores share: the rows and logs that some primitives must change
// together in one synchronous block (a message append and its event, a keep-alive and the
// queued count, a session delete and its messages and presence). Stores with nothing to share
// (namespaces, rpc routes, coordination) keep their own maps.
//
// Stored objects never leave the engine: inputs are cloned on the way in, rows on the way out.
import type { EngineOptions, LiveFields, MachineRow, PresenceKind, SessionRow } from '../types.js';
import { EventFanout } from './event-fanout.js';
import { NamespaceEventLog } from './namespace-event-log.js';
import { PresenceDeadlines } from './presence-deadlines.js';
import type { SessionMessageLog } from './session-message-log.js';

export class MemoryState {
  // Ids are per namespace: every per-object map is keyed by scopedKey(ns, id).
  readonly sessions = new Map<string, SessionRow>();
  /** Session → attached-socket count (SessionStore.adjustAttachedSockets). */
  readonly attachedSockets = new Map<string, number>();
  /** scopedKey(ns, tag) → session id; tags are unique per namespace. */
  readonly sessionIdByTag = new Map<string, string>();
  readonly messageLogs = new Map<string, SessionMessageLog>();
  readonly machines = new Map<string, MachineRow>();
  readonly deadlines = new PresenceDeadlines();
  /** Namespace → its event log. */
  readonly eventLogs = new Map<string, NamespaceEventLog>();
  readonly fanout = new EventFanout();

  constructor(readonly options: EngineOptions) {}

  sessionIn(ns: string, id: string): SessionRow | undefined {
    return this.sessions.get(scopedKey(ns, id));
  }

  machineIn(ns: string, id: string): MachineRow | undefined {
    return this.machines.get(scopedKey(ns, id));
  }

  liveRowIn(ns: string, kind: PresenceKind, id: string): { live: LiveFields } | undefined {
    return kind === 'session' ? this.sessionIn(ns, id) : this.machineIn(ns, id);
  }

  messageLogIn(ns: string, sessionId: string): SessionMessageLog | undefined {
    return this.messageLogs.get(scopedKey(ns, sessionId));
  }

  /** Creating the log on first use fixes its epoch then (a read of an empty log creates it too). */
  eventLogFor(ns: string): NamespaceEventLog {
    let log = this.eventLogs.get(ns);
    if (!log) {
      log = new NamespaceEventLog({
        maxEvents: this.options.eventLogMaxEvents,
        maxBytes: this.options.eventLogMaxBytes,
      });
      this.eventLogs.set(ns, log);
    }
    return log;
  }
}

/** Map key of an object of one namespace; namespace names never contain a newline. */
export function scopedKey(ns: string, id: string): string {
  return `${ns}\n${id}`;
}
