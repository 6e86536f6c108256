// `--chart out.svg`: throughput, end-to-end latency (log scale) and, when hub PIDs were given,
// hub CPU over time, with phase boundaries marked. Plain SVG written by hand (no dependency).
import type { LoadtestResult, TimelinePoint } from './result-schema.js';

const WIDTH = 960;
const PANEL_HEIGHT = 200;
const MARGIN = { left: 70, right: 150, top: 36, bottom: 30 };
const GAP = 46;

interface Series {
  label: string;
  color: string;
  value: (p: TimelinePoint) => number | null;
}

const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** 1-2-5 ticks covering [0, max]. */
function niceTicks(max: number, count = 5): number[] {
  if (max <= 0) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step * 0.5 && ticks.length < 50; v += step) ticks.push(v);
  return ticks;
}

function label(v: number): string {
  if (v >= 1_000_000) return `${(v / 1_000_000).toFixed(v % 1_000_000 === 0 ? 0 : 1)}M`;
  if (v >= 1_000) return `${(v / 1_000).toFixed(v % 1_000 === 0 ? 0 : 1)}k`;
  return v >= 1 || v === 0 ? String(Math.round(v * 100) / 100) : v.toPrecision(1);
}

function panel(
  points: readonly TimelinePoint[],
  top: number,
  title: string,
  unit: string,
  series: readonly Series[],
  scale: 'linear' | 'log',
  tMax: number,
): string {
  const x0 = MARGIN.left;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const x = (t: number): number => x0 + (t / Math.max(1e-9, tMax)) * plotW;
  const values = points
    .flatMap((p) => series.map((s) => s.value(p)))
    .filter((v): v is number => v !== null && Number.isFinite(v));
  const parts: string[] = [];
  let y: (v: number) => number;
  let ticks: number[];
  if (scale === 'log') {
    const positive = values.filter((v) => v > 0);
    const lo = Math.floor(Math.log10(Math.max(0.01, Math.min(...(positive.length > 0 ? positive : [0.1])))));
    const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...(positive.length > 0 ? positive : [1])))));
    y = (v: number) => top + PANEL_HEIGHT - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * PANEL_HEIGHT;
    ticks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
  } else {
    ticks = niceTicks(Math.max(1, ...values));
    const max = ticks[ticks.length - 1] ?? 1;
    y = (v: number) => top + PANEL_HEIGHT - (v / max) * PANEL_HEIGHT;
  }
  parts.push(`<text x="${x0}" y="${top - 10}" class="title">${escapeXml(title)}</text>`);
  for (const tick of ticks) {
    const ty = y(tick).toFixed(1);
    parts.push(`<line x1="${x0}" x2="${x0 + plotW}" y1="${ty}" y2="${ty}" class="grid"/>`);
    parts.push(`<text x="${x0 - 6}" y="${ty}" class="ylabel">${label(tick)}</text>`);
  }
  parts.push(
    `<text x="14" y="${top + PANEL_HEIGHT / 2}" class="unit" transform="rotate(-90 14 ${top + PANEL_HEIGHT / 2})">${escapeXml(unit)}</text>`,
  );
  parts.push(`<rect x="${x0}" y="${top}" width="${plotW}" height="${PANEL_HEIGHT}" class="frame"/>`);
  series.forEach((s, i) => {
    let d = '';
    let pen = false;
    for (const p of points) {
      const v = s.value(p);
      if (v === null || !Number.isFinite(v) || (scale === 'log' && v <= 0)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    }
    if (d !== '') parts.push(`<path d="${d}" stroke="${s.color}" class="series"/>`);
    const ly = top + 14 + i * 18;
    parts.push(
      `<line x1="${x0 + plotW + 12}" x2="${x0 + plotW + 30}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2.5"/>`,
    );
    parts.push(`<text x="${x0 + plotW + 36}" y="${ly}" class="legend">${escapeXml(s.label)}</text>`);
  });
  return parts.join('\n');
}

export function renderChart(result: LoadtestResult): string {
  const points = result.timeline;
  const tMax = Math.max(1, ...points.map((p) => p.t));
  const hasHub = points.some((p) => p.hubCpuPercent !== null);
  const panels: string[] = [];
  let top = MARGIN.top + 40;
  const add = (title: string, unit: string, series: Series[], scale: 'linear' | 'log'): void => {
    panels.push(panel(points, top, title, unit, series, scale, tMax));
    top += PANEL_HEIGHT + GAP;
  };
  add(
    'Throughput',
    'per second',
    [
      { label: 'sent msg/s', color: '#1f77b4', value: (p) => p.sentPerS },
      { label: 'accepted msg/s', color: '#2ca02c', value: (p) => p.acceptedPerS },
      { label: 'SSE deliveries/s', color: '#ff7f0e', value: (p) => p.deliveriesPerS },
      { label: 'heartbeats/s', color: '#9467bd', value: (p) => (p.heartbeatsPerS > 0 ? p.heartbeatsPerS : null) },
      { label: 'RPC/s', color: '#8c564b', value: (p) => (p.rpcPerS > 0 ? p.rpcPerS : null) },
    ],
    'linear',
  );
  add(
    'End-to-end latency (CLI emit → SSE receipt), per second',
    'ms (log)',
    [
      { label: 'p50', color: '#2ca02c', value: (p) => (p.p50 > 0 ? p.p50 : null) },
      { label: 'p99', color: '#d62728', value: (p) => (p.p99 > 0 ? p.p99 : null) },
      { label: 'max', color: '#7f7f7f', value: (p) => (p.max > 0 ? p.max : null) },
    ],
    'log',
  );
  if (hasHub) {
    add(
      'CPU (% of one core)',
      '%',
      [
        { label: 'hub', color: '#d62728', value: (p) => p.hubCpuPercent },
        { label: 'load generator', color: '#1f77b4', value: (p) => p.loadtestCpuPercent },
      ],
      'linear',
    );
  }
  const height = top - GAP + MARGIN.bottom + 10;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const x = (t: number): number => MARGIN.left + (t / tMax) * plotW;
  const boundaries = result.phases
    .map((p) => {
      const px = x(p.startS).toFixed(1);
      return `<line x1="${px}" x2="${px}" y1="${MARGIN.top + 18}" y2="${height - MARGIN.bottom}" class="phase"/><text x="${Number(px) + 3}" y="${MARGIN.top + 12}" class="phaselabel">${escapeXml(p.name)}</text>`;
    })
    .join('\n');
  const xTicks = niceTicks(tMax, 10)
    .filter((t) => t <= tMax)
    .map((t) => `<text x="${x(t).toFixed(1)}" y="${height - MARGIN.bottom + 16}" class="xlabel">${label(t)}s</text>`)
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">
<style>
  .title { font-size: 13px; font-weight: bold; fill: #222; }
  .ylabel { font-size: 10px; fill: #555; text-anchor: end; dominant-baseline: middle; }
  .xlabel { font-size: 10px; fill: #555; text-anchor: middle; }
  .unit { font-size: 10px; fill: #555; text-anchor: middle; }
  .legend { font-size: 11px; fill: #222; }
  .grid { stroke: #e5e5e5; stroke-width: 1; }
  .frame { fill: none; stroke: #999; stroke-width: 1; }
  .series { fill: none; stroke-width: 1.8; stroke-linejoin: round; }
  .phase { stroke: #bbb; stroke-width: 1; stroke-dasharray: 4 3; }
  .phaselabel { font-size: 9px; fill: #777; }
</style>
<rect width="100%" height="100%" fill="white"/>
<text x="${MARGIN.left}" y="18" class="title">${escapeXml(`loadtest ${result.runId} → ${result.url} (${result.startedAt})`)}</text>
${boundaries}
${panels.join('\n')}
${xTicks}
</svg>
`;
}
