// The namespace registry: the tenants, their access-token hash and its generation.
import type { NamespaceRecord } from '../types.js';

export interface NamespaceRegistry {
  /** Registers the namespace if unknown; returns true when it was created now. */
  register(ns: string, now: number): Promise<boolean>;
  get(ns: string): Promise<NamespaceRecord | null>;
  /** Sorted by name. */
  list(): Promise<NamespaceRecord[]>;
  /** Sets (or replaces) the namespace's token hash, clears `revoked`, bumps the generation. */
  setToken(ns: string, tokenHash: string, now: number): Promise<NamespaceRecord>;
  /** Clears the token hash, sets `revoked`, bumps the generation. Null if unknown. */
  revoke(ns: string): Promise<NamespaceRecord | null>;
}
