// Expires sessions and machines whose keep-alives stopped. One worker cluster-wide holds the
// sweeper lock at a time; the engine hands each overdue entry to exactly one caller, so every
// expiry is announced exactly once even while the lock changes hands.
import { randomUUID } from 'node:crypto';
import type { ServiceDeps } from './deps.js';

const LOCK_NAME = 'presence-sweeper';
const BATCH = 500;

export class PresenceSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private readonly owner = randomUUID();

  constructor(
    private readonly deps: ServiceDeps,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    await this.deps.engine.coordination.releaseLock(LOCK_NAME, this.owner).catch(() => undefined);
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = this.sweepIfLeader().catch((error: unknown) => {
      this.deps.log.warn({ err: error }, 'presence sweep failed');
      return 0;
    });
    await this.running;
    this.running = null;
  }

  /** Runs one sweep if this worker holds (or wins) the sweeper lock. Returns the number expired. */
  async sweepIfLeader(): Promise<number> {
    const leader = await this.deps.engine.coordination.acquireLock(LOCK_NAME, this.owner, this.intervalMs * 3);
    if (!leader) return 0;
    return this.sweep();
  }

  /** Expires every overdue entry as of the clock's now and announces each one. */
  async sweep(): Promise<number> {
    const now = this.deps.clock();
    let total = 0;
    for (;;) {
      const expired = await this.deps.engine.presence.expireOverdue(now, BATCH);
      for (const entry of expired) {
        if (entry.kind === 'session') {
          await this.deps.events.publish(entry.namespace, {
            type: 'session-updated',
            sessionId: entry.id,
            data: { active: false },
          });
        } else {
          await this.deps.events.publish(entry.namespace, {
            type: 'machine-updated',
            machineId: entry.id,
            data: { active: false },
          });
        }
      }
      total += expired.length;
      if (expired.length < BATCH) return total;
    }
  }
}
