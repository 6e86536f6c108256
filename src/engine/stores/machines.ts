// The machine store (runner hosts): rows with versioned metadata and runner state.
import type { CasResult, CreateMachineInput, GetOrCreateMachineResult, MachineField, MachineRow } from '../types.js';

export interface MachineStore {
  /** Creates if absent in this namespace (ids are per namespace). Never merges. */
  getOrCreate(ns: string, input: CreateMachineInput, now: number): Promise<GetOrCreateMachineResult>;
  get(ns: string, id: string): Promise<MachineRow | null>;
  /** Whether `get` would find the machine, without reading the row (a guard before an RPC). */
  exists(ns: string, id: string): Promise<boolean>;
  list(ns: string): Promise<MachineRow[]>;
  compareAndSet(
    ns: string,
    id: string,
    field: MachineField,
    expectedVersion: number,
    value: unknown,
    opts: { now: number },
  ): Promise<CasResult>;
}
