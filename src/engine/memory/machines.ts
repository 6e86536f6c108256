// Machine rows in memory (see state.ts for what the stores share).
import type { MachineStore } from '../stores/machines.js';
import type { MachineRow } from '../types.js';
import { compareAndSetRow } from './row-compare-and-set.js';
import { type MemoryState, scopedKey } from './state.js';

export function createMachineStore(state: MemoryState): MachineStore {
  return {
    async getOrCreate(ns, input, now) {
      const existing = state.machineIn(ns, input.id);
      if (existing) return { machine: structuredClone(existing), created: false };
      const machine: MachineRow = {
        id: input.id,
        namespace: ns,
        createdAt: now,
        updatedAt: now,
        seq: 0,
        metadata: structuredClone(input.metadata ?? null),
        metadataVersion: 1,
        runnerState: structuredClone(input.runnerState ?? null),
        runnerStateVersion: 1,
        ...input.stored,
        live: {},
      };
      state.machines.set(scopedKey(ns, machine.id), machine);
      return { machine: structuredClone(machine), created: true };
    },

    async get(ns, id) {
      const machine = state.machineIn(ns, id);
      return machine ? structuredClone(machine) : null;
    },

    async exists(ns, id) {
      return state.machineIn(ns, id) !== undefined;
    },

    async list(ns) {
      return [...state.machines.values()]
        .filter((machine) => machine.namespace === ns)
        .map((machine) => structuredClone(machine));
    },

    async compareAndSet(ns, id, field, expectedVersion, value, opts) {
      return compareAndSetRow(state.machineIn(ns, id), field, expectedVersion, value, { rule: 'set', now: opts.now });
    },
  };
}
