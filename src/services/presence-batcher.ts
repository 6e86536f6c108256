// Coalesced keep-alives: the session-alive and machine-alive beats that arrive on this worker
// within a short window go to the engine as one batch (PresenceStore.refreshMany: on Redis one
// script per namespace slot instead of one round trip per beat). Each caller still gets its own
// beat's result, exactly what a lone refresh would have returned, so everything the services
// decide from it (activation, throttled session-updated, queued-prompt re-send) is unchanged; a
// beat only waits up to the window longer for it.
import type { PresenceStore } from '../engine/stores/presence.js';
import type {
  PresenceKind,
  PresenceRefreshRequest,
  RefreshPresenceInput,
  RefreshPresenceResult,
} from '../engine/types.js';
import { settleBatch, type BatchCaller } from './batch-results.js';

/** A batch is sent at once when it reaches this many beats (bounds script size and latency). */
export const MAX_PRESENCE_BATCH = 256;

interface Pending extends BatchCaller<RefreshPresenceResult> {
  request: PresenceRefreshRequest;
}

export class PresenceBatcher {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;

  /** windowMs 0: every beat goes alone (no timer). */
  constructor(
    private readonly store: PresenceStore,
    private readonly windowMs: number,
  ) {}

  refresh(
    namespace: string,
    kind: PresenceKind,
    id: string,
    input: RefreshPresenceInput,
  ): Promise<RefreshPresenceResult> {
    if (this.windowMs <= 0) return this.store.refresh(namespace, kind, id, input);
    return new Promise((resolve, reject) => {
      this.pending.push({ request: { namespace, kind, id, input }, resolve, reject });
      if (this.pending.length >= MAX_PRESENCE_BATCH) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  /** Sends what is pending now (also used on shutdown paths and by tests). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    settleBatch(batch, this.store.refreshMany(batch.map((item) => item.request)), 'presence batch');
  }
}
