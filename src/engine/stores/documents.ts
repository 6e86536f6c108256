// Small JSON documents the hub keeps for clients (a session's scratchlist, hub-wide settings),
// grouped by owner: a session id, or '' for documents that belong to the namespace itself.
// No expiry: a document lives until it is deleted, or with its owner (deleteOwner when a session
// is deleted). Values are opaque JSON text; read-modify-write callers serialise themselves
// (services/web-documents.ts takes a coordination lock).
export interface DocumentStore {
  /** The stored JSON text, or null. */
  get(ns: string, owner: string, name: string): Promise<string | null>;
  /** Creates or replaces the document. */
  put(ns: string, owner: string, name: string, json: string): Promise<void>;
  /** True when a document was removed. */
  delete(ns: string, owner: string, name: string): Promise<boolean>;
  /** Removes every document of one owner in one step; returns how many there were. */
  deleteOwner(ns: string, owner: string): Promise<number>;
}
