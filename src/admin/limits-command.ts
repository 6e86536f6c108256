// `hapi-hub ns set-limits <ns> key=value …` and `hapi-hub ns limits [<ns>]`: per-namespace
// overrides of the limits table (config/limits.ts), kept in the engine so every worker applies
// them (within OVERRIDES_TTL_MS).
import { LIMIT_NAMES, LIMITS, LimitAssignmentSchema, type LimitName } from '../config/limits.js';
import type { HubConfig } from '../config.js';
import type { Engine } from '../engine/engine.js';
import { LimitsService, OVERRIDES_TTL_MS } from '../services/limits.js';

export const LIMITS_USAGE = [
  'hapi-hub ns set-limits <namespace> <limit>=<value>|<limit>= …   (empty value: back to the default)',
  'hapi-hub ns limits [<namespace>]                                 (effective values, overrides, usage)',
  `limits: ${LIMIT_NAMES.join(', ')}`,
];

/** Parses `key=value` arguments; an error line, or the changes. */
export function parseAssignments(args: string[]): string | Partial<Record<LimitName, number | null>> {
  if (args.length === 0) return 'give at least one <limit>=<value>';
  const changes: Partial<Record<LimitName, number | null>> = {};
  for (const arg of args) {
    const parsed = LimitAssignmentSchema.safeParse(arg);
    if (!parsed.success) return `invalid limit ${JSON.stringify(arg)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`;
    changes[parsed.data.key] = parsed.data.value;
  }
  return changes;
}

export async function runLimitsCommand(
  config: HubConfig,
  engine: Engine,
  action: 'set-limits' | 'limits',
  namespace: string | undefined,
  args: string[],
  out: (line: string) => void,
): Promise<number> {
  const limits = new LimitsService(engine, config.limits);
  if (action === 'set-limits') {
    const changes = parseAssignments(args);
    if (typeof changes === 'string' || namespace === undefined) {
      out(typeof changes === 'string' ? changes : (LIMITS_USAGE[0] ?? ''));
      return 2;
    }
    const now = await limits.setOverrides(namespace, changes);
    out(`limits of ${namespace} set; overrides now: ${formatOverrides(now)}`);
    out(`every worker applies them within ${OVERRIDES_TTL_MS / 1000} s`);
    return 0;
  }
  if (namespace === undefined) {
    for (const entry of await limits.listOverrides()) out(`${entry.namespace}\t${formatOverrides(entry.overrides)}`);
    return 0;
  }
  const described = await limits.describe(namespace);
  out('limit\tvalue\tsource\tscope\tusage');
  for (const name of LIMIT_NAMES) {
    const source = described.overrides[name] !== undefined ? 'namespace' : 'default';
    const usage = described.usage[name];
    out(`${name}\t${described.effective[name]}\t${source}\t${LIMITS[name].scope}\t${usage ?? ''}`);
  }
  return 0;
}

function formatOverrides(overrides: Record<string, number>): string {
  const entries = Object.entries(overrides);
  return entries.length === 0 ? '(none)' : entries.map(([name, value]) => `${name}=${value}`).join(' ');
}
