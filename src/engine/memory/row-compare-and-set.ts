// Versioned writes shared by sessions and machines, as redis/row-compare-and-set.ts (the row is
// changed in place, in the caller's synchronous block).
import type { CasResult } from '../types.js';

export type UpdatedAtRule = 'max' | 'set' | 'keep';

type VersionedRow<F extends string> = Record<F, unknown> &
  Record<`${F}Version`, number> & { seq: number; updatedAt: number };

export function compareAndSetRow<F extends string>(
  row: VersionedRow<F> | undefined,
  field: F,
  expectedVersion: number,
  value: unknown,
  updatedAt: { rule: UpdatedAtRule; now: number },
): CasResult {
  if (!row) return { result: 'not-found' };
  // The type parameter ties field and version column at the call site; here both are plain keys.
  const columns: Record<string, unknown> = row;
  const versionKey = `${field}Version`;
  const version = columns[versionKey] as number;
  if (version !== expectedVersion)
    return { result: 'version-mismatch', version, value: structuredClone(columns[field]) };
  columns[field] = structuredClone(value);
  columns[versionKey] = version + 1;
  row.seq += 1;
  if (updatedAt.rule === 'set') row.updatedAt = updatedAt.now;
  else if (updatedAt.rule === 'max') row.updatedAt = Math.max(row.updatedAt, updatedAt.now);
  return { result: 'success', version: version + 1, value: structuredClone(columns[field]) };
}
