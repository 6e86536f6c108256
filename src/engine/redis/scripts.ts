// Loads the engine's Lua scripts (the .lua files next to this module) once at start-up and
// registers them with ioredis `defineCommand`, which runs them with EVALSHA and falls back to
// EVAL after a server restart emptied the script cache.
//
// Scripts only touch keys of one Cluster slot: their KEYS, plus, where a key is only known
// inside the script (the session a tag points to, a registry record), keys built from a prefix
// that carries the same hash tag.
import { readFileSync } from 'node:fs';
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
type ScriptCommand = (numberOfKeys: number, ...keysAndArgs: ScriptArg[]) => Promise<unknown>;

function readScript(file: string): string {
  return readFileSync(new URL(file, import.meta.url), 'utf8');
}

/** Script sources, read once per process. */
let sources: Map<ScriptName, string> | undefined;

function scriptSources(): Map<ScriptName, string> {
  if (!sources) {
    sources = new Map();
    for (const [name, spec] of Object.entries(SCRIPT_FILES) as [ScriptName, { file: string; preludes?: string[] }][]) {
      const preludes = (spec.preludes ?? []).map((file) => `${readScript(file)}\n`).join('');
      sources.set(name, preludes + readScript(spec.file));
    }
  }
  return sources;
}

export class LuaScripts {
  constructor(private readonly client: RedisClient) {
    for (const [name, lua] of scriptSources()) client.defineCommand(name, { lua });
  }

  run(name: ScriptName, keys: string[], args: ScriptArg[] = []): Promise<unknown> {
    // defineCommand adds the method at run time; the client's static type cannot know it.
    const command = (this.client as unknown as Record<ScriptName, ScriptCommand>)[name];
    return command.call(this.client, keys.length, ...keys, ...args);
  }
}
