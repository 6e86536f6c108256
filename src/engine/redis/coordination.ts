// Cluster-wide coordination primitives: RPC routes (in the tenant's slot: routes are per
// namespace), set-once secrets, leased locks (one key each, spread over Cluster slots).
import type { RedisContext } from './context.js';
import { globalKeys, tenantKeys } from './keys.js';

export class RedisCoordination {
  constructor(private readonly context: RedisContext) {}

  async setRpcRoute(ns: string, method: string, socketId: string): Promise<void> {
    await this.context.client.set(tenantKeys.rpcRoute(ns, method), socketId);
  }

  async deleteRpcRoute(ns: string, method: string, socketId: string): Promise<void> {
    // Compare-and-delete: a newer registration by another socket must survive.
    await this.context.scripts.run('deleteIfEquals', [tenantKeys.rpcRoute(ns, method)], [socketId]);
  }

  getRpcRoute(ns: string, method: string): Promise<string | null> {
    return this.context.client.get(tenantKeys.rpcRoute(ns, method));
  }

  async getOrSetSecret(name: string, candidate: string): Promise<string> {
    // SET NX GET (Redis >= 7.0): stores the candidate only if absent and returns the previous
    // value, in one atomic command; null means our candidate is now the secret.
    const previous = await this.context.client.set(globalKeys.secret(name), candidate, 'NX', 'GET');
    return previous ?? candidate;
  }

  async acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const ttl = String(Math.max(1, Math.ceil(ttlMs)));
    return (await this.context.scripts.run('lockAcquire', [globalKeys.lock(name)], [owner, ttl])) === 1;
  }

  async releaseLock(name: string, owner: string): Promise<void> {
    await this.context.scripts.run('deleteIfEquals', [globalKeys.lock(name)], [owner]);
  }

  async setEphemeral(key: string, value: string, ttlMs: number): Promise<void> {
    await this.context.client.set(globalKeys.ephemeral(key), value, 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  getEphemeral(key: string): Promise<string | null> {
    return this.context.client.get(globalKeys.ephemeral(key));
  }

  async deleteEphemeral(key: string): Promise<void> {
    await this.context.client.del(globalKeys.ephemeral(key));
  }
}
