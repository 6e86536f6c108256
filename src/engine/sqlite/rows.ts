// Table rows → engine rows, and the versioned compare-and-set both sessions and machines use.
import type { CasResult, LiveFields, MachineRow, SessionRow } from '../types.js';
import { int, jsonText, parseJson, type SqliteConnection, type SqlRow, text, textOrNull } from './connection.js';

export function liveOf(row: SqlRow): LiveFields {
  return parseJson(row, 'live') as LiveFields;
}

export function sessionOf(row: SqlRow): SessionRow {
  return {
    id: text(row, 'id'),
    namespace: text(row, 'namespace'),
    tag: text(row, 'tag'),
    createdAt: int(row, 'created_at'),
    updatedAt: int(row, 'updated_at'),
    seq: int(row, 'seq'),
    metadata: parseJson(row, 'metadata'),
    metadataVersion: int(row, 'metadata_version'),
    agentState: parseJson(row, 'agent_state'),
    agentStateVersion: int(row, 'agent_state_version'),
    model: textOrNull(row, 'model'),
    modelReasoningEffort: textOrNull(row, 'model_reasoning_effort'),
    effort: textOrNull(row, 'effort'),
    serviceTier: textOrNull(row, 'service_tier'),
    pinned: int(row, 'pinned') !== 0,
    globalPinned: int(row, 'global_pinned') !== 0,
    live: liveOf(row),
  };
}

export function machineOf(row: SqlRow): MachineRow {
  return {
    id: text(row, 'id'),
    namespace: text(row, 'namespace'),
    createdAt: int(row, 'created_at'),
    updatedAt: int(row, 'updated_at'),
    seq: int(row, 'seq'),
    metadata: parseJson(row, 'metadata'),
    metadataVersion: int(row, 'metadata_version'),
    runnerState: parseJson(row, 'runner_state'),
    runnerStateVersion: int(row, 'runner_state_version'),
    live: liveOf(row),
  };
}

/** How a successful versioned write moves updated_at. */
export type UpdatedAtRule = 'set' | 'max' | 'keep';

/**
 * Versioned write on `table`'s document `column` (and `column`_version) in one transaction:
 * the version moves by one per success, the row's seq too.
 */
export function compareAndSetColumn(
  db: SqliteConnection,
  table: 'sessions' | 'machines',
  column: 'metadata' | 'agent_state' | 'runner_state',
  target: { ns: string; id: string },
  expectedVersion: number,
  value: unknown,
  updatedAt: { rule: UpdatedAtRule; now: number },
): CasResult {
  return db.write(() => {
    const row = db.get(
      `SELECT ${column} AS value, ${column}_version AS version FROM ${table} WHERE namespace = ? AND id = ?`,
      target.ns,
      target.id,
    );
    if (!row) return { result: 'not-found' };
    const version = int(row, 'version');
    if (version !== expectedVersion) return { result: 'version-mismatch', version, value: parseJson(row, 'value') };
    const stored = jsonText(value);
    const touch = { set: ', updated_at = ?', max: ', updated_at = max(updated_at, ?)', keep: '' }[updatedAt.rule];
    db.run(
      `UPDATE ${table} SET ${column} = ?, ${column}_version = ${column}_version + 1, seq = seq + 1${touch} WHERE namespace = ? AND id = ?`,
      stored,
      ...(updatedAt.rule === 'keep' ? [] : [updatedAt.now]),
      target.ns,
      target.id,
    );
    return { result: 'success', version: version + 1, value: JSON.parse(stored) as unknown };
  });
}
