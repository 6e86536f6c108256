// Loads the engine's Lua scripts (the .lua files next to this module) once at start-up, puts
// them in the server's script cache on every (re)connect, and runs them with EVALSHA. A NOSCRIPT
// (a cache emptied without a reconnect: SCRIPT FLUSH, a Cluster node that joined later) is
// retried with EVAL, which also caches the script again.
//
// Not ioredis `defineCommand`: every pipeline ioredis builds (and auto-pipelining builds one per
// event-loop turn) copies each defined script onto itself, which with thirty scripts cost more
// hub CPU than the commands in the pipeline.
//
// Scripts only touch keys of one Cluster slot: their KEYS, plus, where a key is only known
// inside the script (the session a tag points to, a registry record), keys built from a prefix
// that carries the same hash tag.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Cluster } from 'ioredis';
import type { RedisClient } from '../../redis/connection.js';

/** Scripts and the preludes each one needs (helpers shared between scripts), in order. */
const SCRIPT_FILES = {
  sessionGetOrCreate: { file: 'session-get-or-create.lua' },
  sessionUpdateColumns: { file: 'session-update-columns.lua' },
  sessionDelete: { file: 'session-delete.lua' },
  sessionAttached: { file: 'session-attached.lua' },
  rowCompareAndSet: { file: 'row-compare-and-set.lua' },
  rowsList: { file: 'rows-list.lua' },
  machineGetOrCreate: { file: 'machine-get-or-create.lua' },
  messageAppend: { file: 'message-append.lua', preludes: ['message-rows.lua', 'event-log-append.lua'] },
  messageRead: { file: 'message-read.lua', preludes: ['message-rows.lua'] },
  messageMarkInvoked: { file: 'message-mark-invoked.lua', preludes: ['message-rows.lua'] },
  messageDelete: { file: 'message-delete.lua', preludes: ['message-rows.lua'] },
  messageTruncate: { file: 'message-truncate.lua', preludes: ['message-rows.lua'] },
  presenceRefresh: { file: 'presence-refresh.lua' },
  presenceSetLive: { file: 'presence-set-live.lua' },
  presenceMarkInactive: { file: 'presence-mark-inactive.lua' },
  presenceClaim: { file: 'presence-claim.lua' },
  presenceExpire: { file: 'presence-expire.lua' },
  namespaceRegister: { file: 'namespace-register.lua' },
  namespaceSetToken: { file: 'namespace-set-token.lua' },
  namespaceRevoke: { file: 'namespace-revoke.lua' },
  namespaceList: { file: 'namespace-list.lua' },
  deleteIfEquals: { file: 'delete-if-equals.lua' },
  lockAcquire: { file: 'lock-acquire.lua' },
  eventAppend: { file: 'event-append.lua', preludes: ['event-log-append.lua'] },
  eventAppendMany: { file: 'event-append-many.lua', preludes: ['event-log-append.lua'] },
  eventRead: { file: 'event-read.lua' },
  limitTake: { file: 'limit-take.lua' },
  limitLeaseAcquire: { file: 'limit-lease-acquire.lua' },
  limitLeaseRenew: { file: 'limit-lease-renew.lua' },
  limitUsageAdd: { file: 'limit-usage-add.lua' },
} satisfies Record<string, { file: string; preludes?: string[] }>;

export type ScriptName = keyof typeof SCRIPT_FILES;

type ScriptArg = string | number;

interface LoadedScript {
  lua: string;
  sha: string;
}

function readScript(file: string): string {
  return readFileSync(new URL(file, import.meta.url), 'utf8');
}

/** Script sources and their SHA1s, read once per process. */
let scripts: Map<ScriptName, LoadedScript> | undefined;

function loadedScripts(): Map<ScriptName, LoadedScript> {
  if (!scripts) {
    scripts = new Map();
    for (const [name, spec] of Object.entries(SCRIPT_FILES) as [ScriptName, { file: string; preludes?: string[] }][]) {
      const preludes = (spec.preludes ?? []).map((file) => `${readScript(file)}\n`).join('');
      const lua = preludes + readScript(spec.file);
      scripts.set(name, { lua, sha: createHash('sha1').update(lua).digest('hex') });
    }
  }
  return scripts;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

export class LuaScripts {
  private readonly scripts = loadedScripts();

  constructor(private readonly client: RedisClient) {}

  /**
   * Puts every script in the script cache of the server (each master on Cluster). Loading is
   * what keeps the scripts in order: a first EVALSHA that met NOSCRIPT would be retried after
   * commands issued behind it, and callers rely on their writes reaching Redis in call order.
   */
  async load(): Promise<void> {
    const servers = this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
    await Promise.all(
      servers.map(async (server) => {
        const pipeline = server.pipeline();
        for (const script of this.scripts.values()) pipeline.script('LOAD', script.lua);
        for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
      }),
    );
  }

  /**
   * Loads again on every reconnect (a restarted server has an empty cache). The 'ready' listener
   * runs before any caller can issue a command on the new connection, so the loads go first. A
   * failed reload is not fatal: it only costs the first use of each script a NOSCRIPT retry.
   */
  keepLoaded(): void {
    this.client.on('ready', () => void this.load().catch(() => undefined));
  }

  async run(name: ScriptName, keys: string[], args: ScriptArg[] = []): Promise<unknown> {
    const script = this.scripts.get(name);
    if (!script) throw new Error(`unknown Lua script ${name}`);
    try {
      return await this.client.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (error) {
      // Only the script cache's miss is retried, with the source (which also caches it again);
      // any other failure, including a timeout, is the caller's.
      if (!isNoScript(error)) throw error;
      return await this.client.eval(script.lua, keys.length, ...keys, ...args);
    }
  }
}
