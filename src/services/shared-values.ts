// Short-lived values every worker can read (e.g. which SSE subscription ids are open where), for
// transports that must agree across the cluster without reaching the engine themselves.
import type { Engine } from '../engine/engine.js';

export class SharedValues {
  constructor(private readonly engine: Engine) {}

  set(key: string, value: string, ttlMs: number): Promise<void> {
    return this.engine.coordination.setEphemeral(key, value, ttlMs);
  }

  get(key: string): Promise<string | null> {
    return this.engine.coordination.getEphemeral(key);
  }

  delete(key: string): Promise<void> {
    return this.engine.coordination.deleteEphemeral(key);
  }
}
