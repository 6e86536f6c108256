// Machine rows in SQLite: one row per (namespace, id).
import type { MachineStore } from '../stores/machines.js';
import type { MachineRow } from '../types.js';
import { jsonText, type SqliteConnection } from './connection.js';
import { compareAndSetColumn, machineOf } from './rows.js';

export function createMachineStore(db: SqliteConnection): MachineStore {
  const find = (ns: string, id: string): MachineRow | null => {
    const row = db.get('SELECT * FROM machines WHERE namespace = ? AND id = ?', ns, id);
    return row ? machineOf(row) : null;
  };

  return {
    async getOrCreate(ns, input, now) {
      return db.write(() => {
        const existing = find(ns, input.id);
        if (existing) return { machine: existing, created: false };
        db.run(
          `INSERT INTO machines (namespace, id, created_at, updated_at, seq, metadata, metadata_version, runner_state, runner_state_version, live)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '{}')`,
          ns,
          input.id,
          now,
          input.stored?.updatedAt ?? now,
          input.stored?.seq ?? 0,
          jsonText(input.metadata),
          input.stored?.metadataVersion ?? 1,
          jsonText(input.runnerState),
          input.stored?.runnerStateVersion ?? 1,
        );
        const machine = find(ns, input.id);
        if (!machine) throw new Error(`machine ${input.id} missing right after its insert`);
        return { machine, created: true };
      });
    },

    async get(ns, id) {
      return find(ns, id);
    },

    async exists(ns, id) {
      return db.get('SELECT 1 FROM machines WHERE namespace = ? AND id = ?', ns, id) !== undefined;
    },

    async list(ns) {
      return db.all('SELECT * FROM machines WHERE namespace = ? ORDER BY ord', ns).map(machineOf);
    },

    async compareAndSet(ns, id, field, expectedVersion, value, opts) {
      const column = field === 'metadata' ? 'metadata' : 'runner_state';
      return compareAndSetColumn(db, 'machines', column, { ns, id }, expectedVersion, value, {
        rule: 'set',
        now: opts.now,
      });
    },
  };
}
