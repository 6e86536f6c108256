// Machine rows: one hash per machine in the tenant slot and a creation-ordered list. Ids are per
// namespace (any string a runner chooses), so every lookup names the namespace.
import type { MachineStore } from '../stores/machines.js';
import type { MachineRow } from '../types.js';
import { arrayOf, decimal, decodeJson, encodeJson, hashOf, liveFieldsOf, numberOf } from './codec.js';
import type { RedisContext } from './context.js';
import { tenantKeys } from './keys.js';
import { compareAndSetRow } from './row-compare-and-set.js';

export function createMachineStore(context: RedisContext): MachineStore {
  const { client, scripts } = context;
  return {
    async getOrCreate(ns, input, now) {
      const at = decimal(now);
      const stored = input.stored;
      const reply = arrayOf(
        await scripts.run(
          'machineGetOrCreate',
          [tenantKeys.machine(ns, input.id), tenantKeys.machineList(ns), tenantKeys.counters(ns)],
          [
            input.id,
            'id',
            input.id,
            'namespace',
            ns,
            'createdAt',
            at,
            'updatedAt',
            stored ? decimal(stored.updatedAt) : at,
            'seq',
            stored ? decimal(stored.seq) : '0',
            'metadata',
            encodeJson(input.metadata),
            'metadataVersion',
            stored ? decimal(stored.metadataVersion) : '1',
            'runnerState',
            encodeJson(input.runnerState),
            'runnerStateVersion',
            stored ? decimal(stored.runnerStateVersion) : '1',
          ],
        ),
      );
      return { machine: decodeMachineRow(hashOf(reply[1])), created: reply[0] === 'created' };
    },

    async get(ns, id) {
      const hash = await client.hgetall(tenantKeys.machine(ns, id));
      return Object.keys(hash).length > 0 ? decodeMachineRow(hash) : null;
    },

    async exists(ns, id) {
      // A row's hash is never empty, and an empty hash does not exist: EXISTS answers what get would.
      return (await client.exists(tenantKeys.machine(ns, id))) === 1;
    },

    async list(ns) {
      const reply = await scripts.run('rowsList', [tenantKeys.machineList(ns)], [tenantKeys.machine(ns, '')]);
      return arrayOf(reply).map((row) => decodeMachineRow(hashOf(row)));
    },

    compareAndSet(ns, id, field, expectedVersion, value, opts) {
      return compareAndSetRow(context, tenantKeys.machine(ns, id), field, expectedVersion, value, {
        rule: 'set',
        now: opts.now,
      });
    },
  };
}

export function decodeMachineRow(hash: Record<string, string>): MachineRow {
  return {
    id: hash.id ?? '',
    namespace: hash.namespace ?? '',
    createdAt: numberOf(hash.createdAt),
    updatedAt: numberOf(hash.updatedAt),
    seq: numberOf(hash.seq),
    metadata: decodeJson(hash.metadata),
    metadataVersion: numberOf(hash.metadataVersion),
    runnerState: decodeJson(hash.runnerState),
    runnerStateVersion: numberOf(hash.runnerStateVersion),
    live: liveFieldsOf(hash),
  };
}
