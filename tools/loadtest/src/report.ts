// Human-readable report of a run: per-phase tables (traffic + latency, connections + RPC +
// resources), idle-capacity levels, errors by kind.
import type { LoadtestResult } from './result-schema.js';
import { formatBytes } from './sampler.js';

/** Plain-text table: first column left-aligned, the rest right-aligned. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Markdown table (for BENCHMARKS.md). */
export function formatMarkdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (c: string): string => c.replace(/\|/g, '\\|');
  return [
    `| ${headers.map(esc).join(' | ')} |`,
    `| ${headers.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export const fmt = {
  n(v: number | null | undefined, digits = 0): string {
    if (v === null || v === undefined || !Number.isFinite(v)) return '–';
    return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  },
  ms(v: number | null | undefined): string {
    if (v === null || v === undefined || !Number.isFinite(v)) return '–';
    return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  },
  pct(v: number | null | undefined): string {
    return v === null || v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(0)}%`;
  },
  bytes(v: number | null | undefined): string {
    return v === null || v === undefined || !Number.isFinite(v) ? '–' : formatBytes(v);
  },
};

export function formatReport(result: LoadtestResult): string {
  const out: string[] = [];
  out.push(
    `loadtest ${result.runId} → ${result.url}  (${result.durationS.toFixed(1)} s; ${result.config.clis} CLIs, ${result.config.runners} runners, ${result.config.subscribers} SSE subscribers, ${result.config.sessionStreams} session streams, ${result.config.transport})`,
  );
  if (result.aborted) out.push(`ABORTED: ${result.aborted}`);

  const traffic = result.phases.filter((p) => p.kind === 'steady' || p.kind === 'stepup');
  if (traffic.length > 0) {
    out.push(
      '',
      formatTable(
        [
          'phase',
          'dur s',
          'target/s',
          'sent/s',
          'accepted/s',
          'SSE deliv/s',
          'deliv %',
          'p50 ms',
          'p95 ms',
          'p99 ms',
          'max ms',
          'hub cpu',
          'hub rss',
          'lt cpu',
          'errors',
          'verdict',
        ],
        traffic.map((p) => [
          p.name,
          p.durationS.toFixed(1),
          fmt.n(p.targetRate),
          fmt.n(p.sentPerS),
          fmt.n(p.acceptedPerS),
          fmt.n(p.deliveriesPerS),
          (p.deliveryRatio * 100).toFixed(1),
          fmt.ms(p.latency.p50),
          fmt.ms(p.latency.p95),
          fmt.ms(p.latency.p99),
          fmt.ms(p.latency.max),
          fmt.pct(p.hub?.cpuPercent),
          fmt.bytes(p.hub?.rssBytes),
          fmt.pct(p.loadtestCpuPercent),
          fmt.n(Object.values(p.errors).reduce((s, n) => s + n, 0)),
          p.verdict ?? '',
        ]),
      ),
    );
  }

  const other = result.phases.filter((p) => p.kind === 'connect' || p.kind === 'rpc' || p.kind === 'idle');
  if (other.length > 0) {
    out.push(
      '',
      formatTable(
        [
          'phase',
          'dur s',
          'connects',
          'conn/s',
          'conn p50',
          'conn p99',
          'create p99',
          'rpc/s',
          'rpc p50',
          'rpc p99',
          'rest/s',
          'hub cpu',
          'hub rss',
          'lt cpu',
          'errors',
        ],
        other.map((p) => [
          p.name,
          p.durationS.toFixed(1),
          fmt.n(p.connect.count),
          fmt.n(p.connect.perS),
          fmt.ms(p.connect.p50),
          fmt.ms(p.connect.p99),
          fmt.ms(p.sessionCreate.p99),
          fmt.n(p.rpc.perS),
          fmt.ms(p.rpc.p50),
          fmt.ms(p.rpc.p99),
          fmt.n(p.rest.perS),
          fmt.pct(p.hub?.cpuPercent),
          fmt.bytes(p.hub?.rssBytes),
          fmt.pct(p.loadtestCpuPercent),
          fmt.n(Object.values(p.errors).reduce((s, n) => s + n, 0)),
        ]),
      ),
    );
  }

  if (result.summary.idle.length > 0) {
    out.push(
      '',
      formatTable(
        [
          'idle level',
          'connected',
          'reached',
          'window s',
          'hb/s',
          'hub cpu',
          'idle cpu',
          'cpu ms/hb',
          'hub rss',
          'rss/conn',
          'Δrss/Δconn',
        ],
        result.summary.idle.map((l) => [
          String(l.level),
          String(l.connected),
          l.reached ? 'yes' : 'NO',
          l.windowS.toFixed(1),
          fmt.n(l.heartbeatsPerS),
          fmt.pct(l.hubCpuPercent),
          fmt.pct(l.hubBaselineCpuPercent),
          l.cpuMsPerHeartbeat === null ? '–' : l.cpuMsPerHeartbeat.toFixed(3),
          fmt.bytes(l.hubRssBytes),
          fmt.bytes(l.rssBytesPerConnection),
          fmt.bytes(l.rssSlopeBytesPerConnection),
        ]),
      ),
    );
  }

  const s = result.summary;
  out.push('');
  if (s.maxSustained) {
    out.push(
      `max sustained: ${fmt.n(s.maxSustained.acceptedPerS)} msg/s accepted, ${fmt.n(s.maxSustained.deliveriesPerS)} SSE deliveries/s at p99 ${fmt.ms(s.maxSustained.p99)} ms (${s.maxSustained.step}); step-up stopped: ${s.stepupStop ?? '–'}`,
    );
  } else if (s.stepupStop !== null) {
    out.push(`step-up: no step passed (stopped: ${s.stepupStop})`);
  }
  if (s.rpc)
    out.push(`rpc: ${fmt.n(s.rpc.perS)} round-trips/s, p50 ${fmt.ms(s.rpc.p50)} ms, p99 ${fmt.ms(s.rpc.p99)} ms`);
  out.push(
    `messages sent ${fmt.n(s.messagesSent)}, SSE deliveries ${fmt.n(s.deliveries)} of ${fmt.n(s.expectedDeliveries)} expected; load generator CPU ${fmt.pct(s.loadtestCpuPercent)} of one core`,
  );
  const errors = Object.entries(s.errors).sort((a, b) => b[1] - a[1]);
  out.push(errors.length === 0 ? 'errors: none' : `errors: ${errors.map(([k, n]) => `${k}=${n}`).join(', ')}`);
  return out.join('\n');
}
