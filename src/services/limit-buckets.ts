// Token buckets kept in this process: a socket's own buckets (nobody else spends them), and a
// worker's lease of a namespace's shared bucket (tokens taken from the engine in batches, so a
// message costs an engine round trip only once per batch).
import type { BucketSpec } from '../engine/stores/limits.js';

export class LocalBucket {
  private tokens: number;
  private at: number;

  constructor(
    private spec: BucketSpec,
    now: number,
  ) {
    this.tokens = spec.capacity;
    this.at = now;
  }

  /** Follows a changed limit (ns set-limits); tokens above the new capacity are dropped. */
  respec(spec: BucketSpec): void {
    if (spec.ratePerSec === this.spec.ratePerSec && spec.capacity === this.spec.capacity) return;
    this.spec = spec;
    this.tokens = Math.min(this.tokens, spec.capacity);
  }

  private refill(now: number): void {
    if (now > this.at) {
      this.tokens = Math.min(this.spec.capacity, this.tokens + ((now - this.at) * this.spec.ratePerSec) / 1000);
      this.at = now;
    }
  }

  /** 0 when `cost` tokens are there (cost capped at the capacity), else ms until they are. */
  shortfallMs(cost: number, now: number): number {
    this.refill(now);
    const need = Math.min(cost, this.spec.capacity);
    return this.tokens >= need ? 0 : Math.ceil(((need - this.tokens) * 1000) / this.spec.ratePerSec);
  }

  /** Takes `cost` tokens (capped at the capacity); a negative cost gives them back. */
  spend(cost: number): void {
    this.tokens = Math.min(this.spec.capacity, this.tokens - Math.min(cost, this.spec.capacity));
  }
}
