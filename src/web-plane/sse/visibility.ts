// Directory of open SSE subscriptions and their visibility (upstream `VisibilityTracker`), used by
// POST /api/visibility and, later, by whatever decides that a namespace has a visible client.
//
// In a cluster the POST can land on a different worker than the one holding the stream, so the
// hub uses SharedSubscriptionDirectory (the services' shared short-lived values, refreshed by the worker
// holding the stream so entries of a crashed worker lapse).
import { z } from 'zod';
import type { SharedValues } from '../../services/shared-values.js';
import { VisibilitySchema, type Visibility } from '../../protocol/sse.js';

export interface SubscriptionEntry {
  subscriptionId: string;
  namespace: string;
  visibility: Visibility;
}

export interface SubscriptionDirectory {
  register(entry: SubscriptionEntry): Promise<void>;
  unregister(subscriptionId: string): Promise<void>;
  /** False when the id is unknown or belongs to another namespace (the caller answers 404). */
  setVisibility(namespace: string, subscriptionId: string, visibility: Visibility): Promise<boolean>;
  lookup(subscriptionId: string): Promise<SubscriptionEntry | null>;
}

const StoredEntrySchema = z.object({ namespace: z.string(), visibility: VisibilitySchema });
const ENTRY_TTL_MS = 90_000;
const REFRESH_EVERY_MS = 30_000;

export class SharedSubscriptionDirectory implements SubscriptionDirectory {
  /** Entries whose stream this worker holds; refreshed so they outlive the TTL while open. */
  private readonly held = new Map<string, SubscriptionEntry>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly shared: SharedValues) {
    this.timer = setInterval(() => void this.refreshHeld(), REFRESH_EVERY_MS);
    this.timer.unref();
  }

  private key(subscriptionId: string): string {
    return `sse-subscription:${subscriptionId}`;
  }

  private write(entry: SubscriptionEntry): Promise<void> {
    return this.shared.set(
      this.key(entry.subscriptionId),
      JSON.stringify({ namespace: entry.namespace, visibility: entry.visibility }),
      ENTRY_TTL_MS,
    );
  }

  private async refreshHeld(): Promise<void> {
    for (const entry of this.held.values()) await this.write(entry).catch(() => undefined);
  }

  async register(entry: SubscriptionEntry): Promise<void> {
    this.held.set(entry.subscriptionId, { ...entry });
    await this.write(entry);
  }

  async unregister(subscriptionId: string): Promise<void> {
    this.held.delete(subscriptionId);
    await this.shared.delete(this.key(subscriptionId));
  }

  async setVisibility(namespace: string, subscriptionId: string, visibility: Visibility): Promise<boolean> {
    const entry = await this.lookup(subscriptionId);
    if (!entry || entry.namespace !== namespace) return false;
    const updated = { ...entry, visibility };
    const held = this.held.get(subscriptionId);
    if (held) held.visibility = visibility;
    await this.write(updated);
    return true;
  }

  async lookup(subscriptionId: string): Promise<SubscriptionEntry | null> {
    const raw = await this.shared.get(this.key(subscriptionId));
    if (raw === null) return null;
    try {
      const parsed = StoredEntrySchema.safeParse(JSON.parse(raw));
      return parsed.success ? { subscriptionId, ...parsed.data } : null;
    } catch {
      return null;
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
