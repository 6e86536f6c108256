// Versioned writes shared by sessions and machines (one Lua script, so exactly one of several
// concurrent writers with the same expected version succeeds).
import type { CasResult } from '../types.js';
import { decimal, decodeJson, encodeJson, numberOf, stringsOf } from './codec.js';
import type { RedisContext } from './context.js';

export type UpdatedAtRule = 'max' | 'set' | 'keep';

export async function compareAndSetRow(
  context: RedisContext,
  rowKey: string,
  column: string,
  expectedVersion: number,
  value: unknown,
  updatedAt: { rule: UpdatedAtRule; now: number },
): Promise<CasResult> {
  const encoded = encodeJson(value);
  const reply = stringsOfNullable(
    await context.scripts.run(
      'rowCompareAndSet',
      [rowKey],
      [column, `${column}Version`, decimal(expectedVersion), encoded, updatedAt.rule, decimal(updatedAt.now)],
    ),
  );
  switch (reply[0]) {
    case 'not-found':
      return { result: 'not-found' };
    case 'version-mismatch':
      return { result: 'version-mismatch', version: numberOf(reply[1] ?? undefined), value: decodeJson(reply[2]) };
    case 'success':
      // What was stored, as a reader will see it (JSON round trip), not the caller's object.
      return { result: 'success', version: numberOf(reply[1] ?? undefined), value: decodeJson(encoded) };
    default:
      throw new Error(`unexpected compare-and-set reply: ${JSON.stringify(reply)}`);
  }
}

/** Like stringsOf, keeping nil replies as null. */
function stringsOfNullable(reply: unknown): (string | null)[] {
  if (!Array.isArray(reply)) return stringsOf(reply);
  return reply.map((item) => (item === null ? null : String(item)));
}
