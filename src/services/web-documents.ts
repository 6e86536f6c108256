// Small JSON documents the web plane keeps for itself (hub settings, per-session scratchlists),
// stored in the engine's shared key/value so every worker and host sees the same value. Writes are
// read-modify-write under a short engine lock, so two workers never lose each other's change.
// Kept without expiry in practice (a century-long TTL: the key/value API always takes one).
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { ServiceDeps } from './deps.js';

const KEEP_MS = 100 * 365 * 24 * 3600 * 1000;
const LOCK_TTL_MS = 5_000;
const LOCK_ATTEMPTS = 200;
const LOCK_RETRY_MS = 25;

export class DocumentBusyError extends Error {
  constructor(key: string) {
    super(`document ${key} is locked by another writer`);
    this.name = 'DocumentBusyError';
  }
}

export class WebDocuments {
  constructor(private readonly deps: ServiceDeps) {}

  /** The stored value, or `fallback` when absent or no longer matching `schema`. */
  async read<S extends z.ZodType>(key: string, schema: S, fallback: z.infer<S>): Promise<z.infer<S>> {
    const raw = await this.deps.engine.coordination.getEphemeral(`web-doc:${key}`);
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
   * (`value: null` deletes the document). Returns whatever `change` returns as `result`.
   */
  async update<S extends z.ZodType, R>(
    key: string,
    schema: S,
    fallback: z.infer<S>,
    change: (current: z.infer<S>) => { value: z.infer<S> | null | undefined; result: R },
  ): Promise<R> {
    const lock = `web-doc-lock:${key}`;
    const owner = randomUUID();
    let held = false;
    for (let attempt = 0; attempt < LOCK_ATTEMPTS && !held; attempt += 1) {
      held = await this.deps.engine.coordination.acquireLock(lock, owner, LOCK_TTL_MS);
      if (!held) await new Promise((r) => setTimeout(r, LOCK_RETRY_MS));
    }
    if (!held) throw new DocumentBusyError(key);
    try {
      const { value, result } = change(await this.read(key, schema, fallback));
      if (value === null) await this.deps.engine.coordination.deleteEphemeral(`web-doc:${key}`);
      else if (value !== undefined)
        await this.deps.engine.coordination.setEphemeral(`web-doc:${key}`, JSON.stringify(value), KEEP_MS);
      return result;
    } finally {
      await this.deps.engine.coordination.releaseLock(lock, owner);
    }
  }

  async remove(key: string): Promise<void> {
    await this.deps.engine.coordination.deleteEphemeral(`web-doc:${key}`);
  }
}
