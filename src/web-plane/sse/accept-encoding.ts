// q-aware "does the client accept gzip?" (upstream `acceptsGzip`, hub/src/web/sseCompression.ts):
// every `gzip` and `*` entry is read; an explicit `gzip` entry beats `*`; q=0 means refusal; a
// missing or unreadable q counts as 1.

function qualityOf(params: string[]): number {
  for (const param of params) {
    const [key, value] = param.split('=', 2);
    if (key?.trim().toLowerCase() !== 'q') continue;
    const text = value?.trim() ?? '';
    const q = Number(text);
    return text !== '' && Number.isFinite(q) && q >= 0 && q <= 1 ? q : 1;
  }
  return 1;
}

export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  let gzipQ: number | undefined;
  let starQ: number | undefined;
  for (const entry of header.split(',')) {
    const [name = '', ...params] = entry.split(';');
    const coding = name.trim().toLowerCase();
    if (coding !== 'gzip' && coding !== '*') continue;
    const q = qualityOf(params);
    // Listed twice (unusual): the more favourable entry wins.
    if (coding === 'gzip') gzipQ = Math.max(gzipQ ?? 0, q);
    else starQ = Math.max(starQ ?? 0, q);
  }
  if (gzipQ !== undefined) return gzipQ > 0;
  return starQ !== undefined && starQ > 0;
}
