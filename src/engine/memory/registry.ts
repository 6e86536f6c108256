// The memory engine's small key-value registries: tenants, their tokens, and the wall-clock locks.
import type { NamespaceRecord } from '../types.js';

export class NamespaceRegistry {
  private readonly records = new Map<string, NamespaceRecord>();

  register(ns: string, now: number): boolean {
    if (this.records.has(ns)) return false;
    this.records.set(ns, { name: ns, createdAt: now, tokenHash: null, generation: 0, revoked: false });
    return true;
  }

  get(ns: string): NamespaceRecord | null {
    const record = this.records.get(ns);
    return record ? { ...record } : null;
  }

  list(): NamespaceRecord[] {
    return [...this.records.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((record) => ({ ...record }));
  }

  setToken(ns: string, tokenHash: string, now: number): NamespaceRecord {
    this.register(ns, now);
    const updated = this.bumpGeneration(ns, { tokenHash, revoked: false });
    if (!updated) throw new Error(`namespace ${ns} missing right after registration`);
    return updated;
  }

  revoke(ns: string): NamespaceRecord | null {
    return this.bumpGeneration(ns, { tokenHash: null, revoked: true });
  }

  /** Every token change moves the generation, which invalidates JWTs minted before it. */
  private bumpGeneration(ns: string, change: Pick<NamespaceRecord, 'tokenHash' | 'revoked'>): NamespaceRecord | null {
    const record = this.records.get(ns);
    if (!record) return null;
    Object.assign(record, change);
    record.generation += 1;
    return { ...record };
  }
}

export class LockTable {
  private readonly locks = new Map<string, { owner: string; expiresAt: number }>();

  /** Expiry runs on the wall clock (not an injected `now`), as Redis' SET NX PX does. */
  acquire(name: string, owner: string, ttlMs: number): boolean {
    const now = Date.now();
    const held = this.locks.get(name);
    if (held && held.owner !== owner && held.expiresAt > now) return false;
    this.locks.set(name, { owner, expiresAt: now + ttlMs });
    return true;
  }

  release(name: string, owner: string): void {
    if (this.locks.get(name)?.owner === owner) this.locks.delete(name);
  }
}

/** Values with a time to live, on the wall clock like Redis' SET PX. */
export class EphemeralTable {
  private readonly values = new Map<string, { value: string; expiresAt: number }>();

  set(key: string, value: string, ttlMs: number): void {
    this.values.set(key, { value, expiresAt: Date.now() + ttlMs });
  }

  get(key: string): string | null {
    const entry = this.values.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= Date.now()) {
      this.values.delete(key);
      return null;
    }
    return entry.value;
  }

  delete(key: string): void {
    this.values.delete(key);
  }
}
