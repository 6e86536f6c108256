// The session store: rows keyed by (namespace, id), unique tags, versioned metadata/agent state.
import type {
  CasResult,
  CreateSessionInput,
  GetOrCreateSessionResult,
  SessionColumnsPatch,
  SessionField,
  SessionRow,
} from '../types.js';

export interface SessionStore {
  /** Atomic tag/id resolution as upstream's POST /cli/sessions. */
  getOrCreate(ns: string, input: CreateSessionInput, now: number): Promise<GetOrCreateSessionResult>;
  /** Ids are per namespace: the same id in another namespace is another (or no) session. */
  get(ns: string, id: string): Promise<SessionRow | null>;
  list(ns: string): Promise<SessionRow[]>;
  /** Compare-and-swap on a versioned field; `value` is stored verbatim. */
  compareAndSet(
    ns: string,
    id: string,
    field: SessionField,
    expectedVersion: number,
    value: unknown,
    opts: { now: number; touchUpdatedAt: boolean },
  ): Promise<CasResult>;
  /** Non-versioned column writes; `updatedAt` in the patch is applied max-monotonic. */
  updateColumns(ns: string, id: string, patch: SessionColumnsPatch): Promise<SessionRow | null>;
  /** Deletes the session, its messages and its presence entry, in one atomic step. */
  delete(ns: string, id: string): Promise<boolean>;
  /**
   * CLI sockets in the session's room across the cluster, as a counter: +1 when a socket joins
   * the room, -1 when it leaves (never below 0; a session that does not exist is left alone).
   * A hub process that dies without leaving leaves it too high, never too low, so "at most one
   * socket, the sender" is a safe reason to skip a room broadcast.
   */
  adjustAttachedSockets(ns: string, sessionId: string, delta: 1 | -1): Promise<void>;
}
