// Directory of open SSE subscriptions and their visibility (upstream `VisibilityTracker`), used by
// POST /api/visibility and, later, by whatever decides that a namespace has a visible client.
//
// In a cluster the POST can land on a different worker than the one holding the stream, so the
// directory must be shared for the API to be correct across workers. This process-local
// implementation is what a single worker needs; a shared implementation (backed by the engine's
// ephemeral key/value with a TTL refreshed by the holding worker, once the engine has one) plugs
// in behind this same interface — callers already treat every method as remote (async).
import type { Visibility } from '../../protocol/sse.js';

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

export class LocalSubscriptionDirectory implements SubscriptionDirectory {
  private readonly entries = new Map<string, SubscriptionEntry>();

  async register(entry: SubscriptionEntry): Promise<void> {
    this.entries.set(entry.subscriptionId, { ...entry });
  }

  async unregister(subscriptionId: string): Promise<void> {
    this.entries.delete(subscriptionId);
  }

  async setVisibility(namespace: string, subscriptionId: string, visibility: Visibility): Promise<boolean> {
    const entry = this.entries.get(subscriptionId);
    // Another tenant's id is answered exactly like an unknown one: ids must not be probeable.
    if (!entry || entry.namespace !== namespace) return false;
    entry.visibility = visibility;
    return true;
  }

  async lookup(subscriptionId: string): Promise<SubscriptionEntry | null> {
    const entry = this.entries.get(subscriptionId);
    return entry ? { ...entry } : null;
  }
}
