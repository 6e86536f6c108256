// Turns the bench's runs into one comparison: a metric per row, a column per target, and the
// ratios ours ÷ upstream and upstream ÷ ours measured in the same bench run; then the issue's
// targets checked against those ratios.
import { fmt, formatMarkdownTable, formatTable } from '../report.js';
import type { LoadtestResult } from '../result-schema.js';
import type { ProfileName, TargetName } from './options.js';
import { TARGET_LABELS } from './targets.js';

export interface BenchRun {
  target: TargetName;
  profile: ProfileName;
  status: 'ok' | 'skipped' | 'failed';
  reason: string | null;
  loadAverage: number[];
  result: LoadtestResult | null;
}

export interface MetricRow {
  profile: ProfileName;
  key: string;
  label: string;
  better: 'higher' | 'lower' | 'info';
  values: Partial<Record<TargetName, number | null>>;
  notes: Partial<Record<TargetName, string>>;
}

interface MetricDef {
  key: string;
  label: string;
  better: MetricRow['better'];
  value(r: LoadtestResult): number | null;
  note?(r: LoadtestResult): string | undefined;
}

const notSustained = (r: LoadtestResult): string | undefined => {
  if (r.summary.maxSustained === null) return `no step passed (${r.summary.stepupStop ?? '?'})`;
  if (r.summary.stepupStop === 'limit') return 'step limit reached (lower bound)';
  if (r.summary.stepupStop === 'generator') return 'load generator saturated (lower bound)';
  return undefined;
};

/**
 * RSS per idle CLI as the least-squares slope of hub RSS over connected CLIs across all reached
 * levels: one GC cycle more or less at one level moves a two-point slope a lot, a fit much less.
 */
export function rssSlopeFit(r: LoadtestResult): number | null {
  const points = r.summary.idle
    .filter((l) => l.reached && l.hubRssBytes !== null)
    .map((l) => [l.connected, l.hubRssBytes as number] as const);
  if (points.length < 2) return null;
  const n = points.length;
  const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const sxx = points.reduce((sum, [x]) => sum + (x - mx) ** 2, 0);
  if (sxx === 0) return null;
  return points.reduce((sum, [x, y]) => sum + (x - mx) * (y - my), 0) / sxx;
}

function idleDefs(levels: number[]): MetricDef[] {
  const fit: MetricDef = {
    key: 'rss-per-cli-fit',
    label: `RSS KiB per idle CLI (hub + Redis; least-squares slope over levels ${levels.join('/')})`,
    better: 'lower',
    value: (r) => {
      const bytes = rssSlopeFit(r);
      return bytes === null ? null : bytes / 1024;
    },
  };
  const stop: MetricDef = {
    key: 'capacity-stop',
    label: 'highest idle level reached (and why the run stopped there)',
    better: 'higher',
    value: (r) => {
      const reached = r.summary.idle.filter((l) => l.reached);
      return reached.length > 0 ? Math.max(...reached.map((l) => l.level)) : null;
    },
    note: (r) => {
      const stopped = r.summary.idle.find((l) => l.stopReason !== null);
      if (stopped) return `@${stopped.level}: ${stopped.stopReason}`;
      return r.aborted ? `aborted: ${r.aborted}` : undefined;
    },
  };
  return [
    stop,
    fit,
    ...levels.flatMap((level): MetricDef[] => {
      const at = (r: LoadtestResult) => r.summary.idle.find((l) => l.level === level);
      const reachedNote = (r: LoadtestResult): string | undefined => {
        const l = at(r);
        if (!l) return 'not run';
        return l.reached ? undefined : `not reached (${l.connected} connected)`;
      };
      return [
        {
          key: `cpu-per-hb-${level}`,
          label: `CPU ms per heartbeat @${level} idle CLIs (hub processes + redis-server)`,
          better: 'lower',
          value: (r) => (at(r)?.reached ? (at(r)?.cpuMsPerHeartbeat ?? null) : null),
          note: reachedNote,
        },
        {
          key: `rss-per-cli-${level}`,
          // The slope from the previous level (the first level: from the no-CLI baseline).
          label: `RSS KiB per idle CLI @${level} (hub + Redis, Δ from previous level)`,
          better: 'lower',
          value: (r) => {
            const l = at(r);
            const bytes = l?.rssSlopeBytesPerConnection ?? l?.rssBytesPerConnection ?? null;
            return l?.reached && bytes !== null ? bytes / 1024 : null;
          },
          note: reachedNote,
        },
        {
          key: `redis-per-session-${level}`,
          label: `Redis bytes per idle session @${level} (used_memory Δ from no CLI)`,
          better: 'lower',
          value: (r) => (at(r)?.reached ? (at(r)?.redisBytesPerSession ?? null) : null),
        },
        {
          key: `hub-rss-${level}`,
          label: `hub + Redis RSS MiB @${level}`,
          better: 'info',
          value: (r) => ((at(r)?.hubRssBytes ?? null) !== null ? (at(r)?.hubRssBytes as number) / 1024 ** 2 : null),
        },
        {
          key: `connect-rate-${level}`,
          label: `connects/s (ramp to ${level})`,
          better: 'higher',
          value: (r) => at(r)?.connectPerS ?? null,
        },
        {
          key: `connect-p99-${level}`,
          label: `connect p99 ms (ramp to ${level})`,
          better: 'lower',
          value: (r) => at(r)?.connectP99Ms ?? r.phases.find((p) => p.name === `idle-${level}`)?.connect.p99 ?? null,
        },
        {
          key: `generator-cpu-${level}`,
          label: `load generator CPU % @${level} (busiest process / all, of one core)`,
          better: 'info',
          value: (r) => {
            const g = at(r)?.generator ?? [];
            return g.length > 0 ? g.reduce((sum, p) => sum + p.cpuPercent, 0) : null;
          },
          note: (r) => {
            const g = at(r)?.generator ?? [];
            if (g.length === 0) return undefined;
            const busiest = Math.max(...g.map((p) => p.cpuPercent));
            return `busiest ${busiest.toFixed(0)} % of ${g.length} processes`;
          },
        },
      ];
    }),
  ];
}

/**
 * The highest step-up step every completed run of a profile passed: CPU per message compared at
 * the same offered rate (CPU per message falls as batching rises, so each target's own best step
 * would not compare like with like).
 */
function commonStep(runs: readonly BenchRun[]): string | null {
  const passed = runs
    .filter((r) => r.status === 'ok' && r.result)
    .map(
      (r) =>
        new Set(
          (r.result as LoadtestResult).phases
            .filter((p) => p.kind === 'stepup' && p.verdict === 'ok')
            .map((p) => p.name),
        ),
    );
  if (passed.length === 0) return null;
  const [first, ...rest] = passed;
  const common = [...(first ?? [])].filter((name) => rest.every((set) => set.has(name)));
  return common.sort((a, b) => Number(b.split('@')[1]) - Number(a.split('@')[1]))[0] ?? null;
}

/** Hub CPU ms per unit of work in one phase (`per` picks the unit). */
function cpuPer(
  r: LoadtestResult,
  phaseName: string | null,
  per: (p: LoadtestResult['phases'][number]) => number,
): number | null {
  const phase = phaseName === null ? undefined : r.phases.find((p) => p.name === phaseName);
  if (!phase?.hub || per(phase) <= 0) return null;
  return phase.hub.cpuMs / per(phase);
}

function metricDefs(profile: ProfileName, runs: readonly BenchRun[]): MetricDef[] {
  const step = profile === 'ingest' || profile === 'fanout' ? commonStep(runs) : null;
  switch (profile) {
    case 'ingest':
      return [
        {
          key: 'ingest-rate',
          label: 'ingest: accepted msg/s (max sustained: p99 < 100 ms, ≥ 98 % delivered)',
          better: 'higher',
          value: (r) => r.summary.maxSustained?.acceptedPerS ?? null,
          note: notSustained,
        },
        {
          key: 'ingest-p99',
          label: 'ingest: e2e p99 ms at that rate',
          better: 'info',
          value: (r) => r.summary.maxSustained?.p99 ?? null,
        },
        {
          key: 'ingest-cpu',
          label: 'ingest: hub CPU % at that rate',
          better: 'info',
          value: (r) => r.summary.maxSustained?.hubCpuPercent ?? null,
        },
        {
          key: 'ingest-cpu-per-msg',
          label: `ingest: hub CPU ms per message @${step ?? '–'} (highest step all passed)`,
          better: 'lower',
          value: (r) => cpuPer(r, step, (p) => p.accepted),
        },
        {
          key: 'ingest-p50-first',
          label: 'ingest: e2e p50 ms at 100 msg/s',
          better: 'lower',
          value: (r) => r.phases.find((p) => p.kind === 'stepup')?.latency.p50 ?? null,
        },
      ];
    case 'fanout':
      return [
        {
          key: 'fanout-rate',
          label: 'fanout: SSE deliveries/s (max sustained: p99 < 100 ms, 100 CLIs → 5 subscribers)',
          better: 'higher',
          value: (r) => r.summary.maxSustained?.deliveriesPerS ?? null,
          note: notSustained,
        },
        {
          key: 'fanout-p99',
          label: 'fanout: e2e p99 ms at that rate',
          better: 'info',
          value: (r) => r.summary.maxSustained?.p99 ?? null,
        },
        {
          key: 'fanout-cpu',
          label: 'fanout: hub CPU % at that rate',
          better: 'info',
          value: (r) => r.summary.maxSustained?.hubCpuPercent ?? null,
        },
        {
          key: 'fanout-cpu-per-delivery',
          label: `fanout: hub CPU ms per SSE delivery @${step ?? '–'} (highest step all passed)`,
          better: 'lower',
          value: (r) => cpuPer(r, step, (p) => p.deliveries),
        },
      ];
    case 'capacity': {
      const levels = [...new Set(runs.flatMap((run) => run.result?.summary.idle.map((l) => l.level) ?? []))].sort(
        (a, b) => a - b,
      );
      return idleDefs(levels);
    }
    case 'rpc':
      return [
        {
          key: 'rpc-rate',
          label: 'rpc: REST→runner round-trips/s (8 in flight)',
          better: 'higher',
          value: (r) => r.summary.rpc?.perS ?? null,
        },
        { key: 'rpc-p50', label: 'rpc: round-trip p50 ms', better: 'lower', value: (r) => r.summary.rpc?.p50 ?? null },
        { key: 'rpc-p99', label: 'rpc: round-trip p99 ms', better: 'lower', value: (r) => r.summary.rpc?.p99 ?? null },
        {
          key: 'rpc-cpu-per-call',
          label: 'rpc: hub CPU ms per round-trip',
          better: 'lower',
          value: (r) => cpuPer(r, 'rpc', (p) => p.rpc.count),
        },
      ];
  }
}

export function buildRows(runs: readonly BenchRun[], profiles: readonly ProfileName[]): MetricRow[] {
  const rows: MetricRow[] = [];
  for (const profile of profiles) {
    const ofProfile = runs.filter((r) => r.profile === profile);
    for (const def of metricDefs(profile, ofProfile)) {
      const row: MetricRow = { profile, key: def.key, label: def.label, better: def.better, values: {}, notes: {} };
      for (const run of ofProfile) {
        if (run.status !== 'ok' || !run.result) {
          row.values[run.target] = null;
          row.notes[run.target] =
            run.status === 'skipped' ? `skipped: ${run.reason ?? ''}` : `failed: ${run.reason ?? ''}`;
          continue;
        }
        const v = def.value(run.result);
        row.values[run.target] = v;
        const note = def.note?.(run.result);
        if (note) row.notes[run.target] = note;
      }
      rows.push(row);
    }
  }
  return rows;
}

export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  // Every compared quantity is positive; a ratio of a noise-negative value (an RSS that shrank) means nothing.
  if (
    a === null ||
    a === undefined ||
    b === null ||
    b === undefined ||
    !Number.isFinite(a) ||
    !Number.isFinite(b) ||
    a <= 0 ||
    b <= 0
  )
    return null;
  return a / b;
}

const ours = (targets: readonly TargetName[]): TargetName[] => targets.filter((t) => t !== 'upstream');

function cell(row: MetricRow, target: TargetName): string {
  const v = row.values[target];
  // Notes can carry an error message: one short line, so a table stays a table.
  const raw = row.notes[target];
  const note = raw === undefined ? undefined : raw.replace(/\s+/g, ' ').slice(0, 140);
  const digits =
    v !== null && v !== undefined && Math.abs(v) < 10 ? 3 : v !== null && v !== undefined && Math.abs(v) < 100 ? 1 : 0;
  const text = v === null || v === undefined ? '–' : fmt.n(v, digits);
  return note ? `${text} (${note})` : text;
}

const times = (v: number | null): string => (v === null ? '–' : `${v >= 10 ? v.toFixed(1) : v.toFixed(2)}×`);

export function comparisonTable(rows: readonly MetricRow[], targets: readonly TargetName[], markdown: boolean): string {
  const ourTargets = ours(targets);
  const hasUp = targets.includes('upstream');
  const headers = [
    'metric',
    ...targets.map((t) => TARGET_LABELS[t]),
    ...(hasUp ? ourTargets.flatMap((t) => [`${t} ÷ up`, `up ÷ ${t}`]) : []),
  ];
  const body = rows.map((row) => [
    `${row.label}${row.better === 'higher' ? ' ↑' : row.better === 'lower' ? ' ↓' : ''}`,
    ...targets.map((t) => cell(row, t)),
    ...(hasUp
      ? ourTargets.flatMap((t) => [
          times(ratio(row.values[t], row.values.upstream)),
          times(ratio(row.values.upstream, row.values[t])),
        ])
      : []),
  ]);
  return markdown ? formatMarkdownTable(headers, body) : formatTable(headers, body);
}

export interface GoalCheck {
  goal: string;
  target: TargetName;
  required: string;
  measured: string;
  met: boolean | null;
}

/** The issue's targets: ingest ≥3× (Redis ×1) and ≥5× (memory); capacity CPU/heartbeat ≤ 1/5 and memory/idle CLI ≤ upstream; fanout ≥3×. */
export function checkGoals(rows: readonly MetricRow[], targets: readonly TargetName[]): GoalCheck[] {
  const out: GoalCheck[] = [];
  if (!targets.includes('upstream')) return out;
  const find = (key: string) => rows.find((r) => r.key === key);
  const add = (goal: string, target: TargetName, row: MetricRow | undefined, op: '>=' | '<=', bound: number): void => {
    if (!targets.includes(target)) return;
    const r = ratio(row?.values[target], row?.values.upstream);
    out.push({
      goal,
      target,
      required: `ours ÷ upstream ${op} ${bound}`,
      measured: r === null ? 'n/a' : times(r),
      met: r === null ? null : op === '>=' ? r >= bound : r <= bound,
    });
  };
  add('ingest msg/s', 'redis', find('ingest-rate'), '>=', 3);
  add('ingest msg/s', 'memory', find('ingest-rate'), '>=', 5);
  add('ingest msg/s', 'redis2', find('ingest-rate'), '>=', 3);
  for (const t of ours(targets)) add('fanout SSE deliveries/s', t, find('fanout-rate'), '>=', 3);
  // Capacity: the highest level every compared target reached.
  const cpuRows = rows.filter((r) => r.key.startsWith('cpu-per-hb-'));
  for (const t of ours(targets)) {
    const best = [...cpuRows].reverse().find((r) => r.values[t] != null && r.values.upstream != null);
    const level = best?.key.slice('cpu-per-hb-'.length);
    add(`capacity CPU ms/heartbeat${level ? ` @${level}` : ''}`, t, best, '<=', 0.2);
    add('capacity RSS per idle CLI (slope over levels)', t, find('rss-per-cli-fit'), '<=', 1);
  }
  return out;
}

export function goalsTable(goals: readonly GoalCheck[], markdown: boolean): string {
  const headers = ['goal', 'ours', 'required', 'measured', 'met'];
  const body = goals.map((g) => [
    g.goal,
    TARGET_LABELS[g.target],
    g.required,
    g.measured,
    g.met === null ? 'n/a' : g.met ? 'yes' : 'NO',
  ]);
  return markdown ? formatMarkdownTable(headers, body) : formatTable(headers, body);
}

/** The load generator's own CPU share per run (it shares the machine with the hub). */
export function generatorTable(runs: readonly BenchRun[], markdown: boolean): string {
  const headers = [
    'profile',
    'target',
    'status',
    'duration s',
    'load generator CPU % (of one core)',
    'load avg (1 min) before',
    'errors',
  ];
  const body = runs.map((r) => [
    r.profile,
    TARGET_LABELS[r.target],
    r.status === 'ok'
      ? r.result?.aborted
        ? `aborted: ${r.result.aborted}`
        : 'ok'
      : `${r.status}: ${r.reason ?? ''}`.replace(/\s+/g, ' ').slice(0, 120),
    r.result ? r.result.durationS.toFixed(0) : '–',
    r.result ? fmt.pct(r.result.summary.loadtestCpuPercent) : '–',
    r.loadAverage[0] !== undefined ? r.loadAverage[0].toFixed(2) : '–',
    r.result
      ? Object.entries(r.result.summary.errors)
          .map(([k, n]) => `${k}=${n}`)
          .join(', ') || '0'
      : '–',
  ]);
  return markdown ? formatMarkdownTable(headers, body) : formatTable(headers, body);
}
