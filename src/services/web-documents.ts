// Small JSON documents the web plane keeps for clients (hub settings, per-session scratchlists),
// in the engine's document store so every worker and host sees the same value. A document
// belongs to an owner: a session id (deleted with the session) or '' (the namespace's own).
// Writes are read-modify-write under a short engine lock, so two workers never lose each other's
// change.
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { ServiceDeps } from './deps.js';

const LOCK_TTL_MS = 5_000;
const LOCK_ATTEMPTS = 200;
const LOCK_RETRY_MS = 25;

/** Where a document lives: namespace, owner (session id, or '' for the namespace), name. */
export interface DocumentRef {
  ns: string;
  owner: string;
  name: string;
}

export class DocumentBusyError extends Error {
  constructor(ref: DocumentRef) {
    super(`document ${ref.name} of ${ref.owner || 'the namespace'} is locked by another writer`);
    this.name = 'DocumentBusyError';
  }
}

export class WebDocuments {
  constructor(private readonly deps: ServiceDeps) {}

  /** The stored value, or `fallback` when absent or no longer matching `schema`. */
  async read<S extends z.ZodType>(ref: DocumentRef, schema: S, fallback: z.infer<S>): Promise<z.infer<S>> {
    const raw = await this.deps.engine.documents.get(ref.ns, ref.owner, ref.name);
    if (raw === null) return fallback;
    try {
      const parsed = schema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : fallback;
    } catch {
      return fallback;
    }
  }

  /**
   * Applies `change` to the current value under the document's lock and stores the result
   * (`value: null` deletes the document, undefined leaves it). Returns what `change` returns as
   * `result`.
   */
  async update<S extends z.ZodType, R>(
    ref: DocumentRef,
    schema: S,
    fallback: z.infer<S>,
    change: (current: z.infer<S>) => { value: z.infer<S> | null | undefined; result: R },
  ): Promise<R> {
    const lock = `web-doc-lock:${JSON.stringify([ref.ns, ref.owner, ref.name])}`;
    const owner = randomUUID();
    let held = false;
    for (let attempt = 0; attempt < LOCK_ATTEMPTS && !held; attempt += 1) {
      held = await this.deps.engine.coordination.acquireLock(lock, owner, LOCK_TTL_MS);
      if (!held) await new Promise((r) => setTimeout(r, LOCK_RETRY_MS));
    }
    if (!held) throw new DocumentBusyError(ref);
    try {
      const { value, result } = change(await this.read(ref, schema, fallback));
      if (value === null) await this.remove(ref);
      else if (value !== undefined)
        await this.deps.engine.documents.put(ref.ns, ref.owner, ref.name, JSON.stringify(value));
      return result;
    } finally {
      await this.deps.engine.coordination.releaseLock(lock, owner);
    }
  }

  async remove(ref: DocumentRef): Promise<void> {
    await this.deps.engine.documents.delete(ref.ns, ref.owner, ref.name);
  }
}
