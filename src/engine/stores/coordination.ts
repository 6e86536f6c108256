// Cluster-wide coordination between hub processes: set-once secrets, leased locks, and
// short-lived shared values. Not tenant data: names are global.
export interface Coordination {
  /** Returns the stored value, or stores `candidate` if absent and returns it (set-if-absent). */
  getOrSetSecret(name: string, candidate: string): Promise<string>;
  /** SET NX PX semantics; re-acquiring a lock one already holds extends it. */
  acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean>;
  releaseLock(name: string, owner: string): Promise<void>;
  /** Short-lived shared key/value (e.g. which SSE subscription ids exist); gone after ttlMs. */
  setEphemeral(key: string, value: string, ttlMs: number): Promise<void>;
  getEphemeral(key: string): Promise<string | null>;
  deleteEphemeral(key: string): Promise<void>;
}
