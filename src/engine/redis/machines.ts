// Machine rows: one hash per machine in the tenant slot and a creation-ordered list. Ids are per
// namespace (any string a runner chooses), so every lookup names the namespace.
import type { CasResult, CreateMachineInput, GetOrCreateMachineResult, MachineField, MachineRow } from '../types.js';
import { arrayOf, decimal, decodeJson, encodeJson, hashOf, liveFieldsOf, numberOf } from './codec.js';
import type { RedisContext } from './context.js';
import { tenantKeys } from './keys.js';
import { compareAndSetRow } from './row-compare-and-set.js';

export class RedisMachines {
  constructor(private readonly context: RedisContext) {}

  async getOrCreate(ns: string, input: CreateMachineInput, now: number): Promise<GetOrCreateMachineResult> {
    const at = decimal(now);
    const reply = arrayOf(
      await this.context.scripts.run(
        'machineGetOrCreate',
        [tenantKeys.machine(ns, input.id), tenantKeys.machineList(ns), tenantKeys.counters(ns)],
        [
          input.id,
          'id', input.id,
          'namespace', ns,
          'createdAt', at,
          'updatedAt', at,
          'seq', '0',
          'metadata', encodeJson(input.metadata),
          'metadataVersion', '1',
          'runnerState', encodeJson(input.runnerState),
          'runnerStateVersion', '1',
        ],
      ),
    );
    return { machine: decodeMachineRow(hashOf(reply[1])), created: reply[0] === 'created' };
  }

  async get(ns: string, id: string): Promise<MachineRow | null> {
    const hash = await this.context.client.hgetall(tenantKeys.machine(ns, id));
    return Object.keys(hash).length > 0 ? decodeMachineRow(hash) : null;
  }

  async list(ns: string): Promise<MachineRow[]> {
    const prefix = tenantKeys.machine(ns, '');
    const reply = await this.context.scripts.run('rowsList', [tenantKeys.machineList(ns)], [prefix]);
    return arrayOf(reply).map((row) => decodeMachineRow(hashOf(row)));
  }

  compareAndSet(ns: string, id: string, field: MachineField, expectedVersion: number, value: unknown, opts: { now: number }): Promise<CasResult> {
    return compareAndSetRow(this.context, tenantKeys.machine(ns, id), field, expectedVersion, value, { rule: 'set', now: opts.now });
  }
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
