// Bounded JSON HTTP for the load generator: every request has a timeout, and failures come back
// as a classified result instead of an exception, so the phases can count them by kind.
import { performance } from 'node:perf_hooks';

export interface HttpOutcome {
  /** 0 when no HTTP answer arrived (see `failure`). */
  status: number;
  body: unknown;
  ms: number;
  failure?: 'timeout' | 'network' | 'bad-json';
}

export async function requestJson(
  method: string,
  url: string,
  init: { bearer?: string; body?: unknown; timeoutMs: number },
): Promise<HttpOutcome> {
  const started = performance.now();
  const headers: Record<string, string> = {};
  if (init.bearer !== undefined) headers.authorization = `Bearer ${init.bearer}`;
  let body: string | undefined;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] = 'application/json';
  }
  try {
    const response = await fetch(url, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      signal: AbortSignal.timeout(init.timeoutMs),
    });
    const text = await response.text();
    const ms = performance.now() - started;
    if (text.length === 0) return { status: response.status, body: null, ms };
    try {
      return { status: response.status, body: JSON.parse(text) as unknown, ms };
    } catch {
      return { status: response.status, body: text, ms, failure: 'bad-json' };
    }
  } catch (error) {
    const ms = performance.now() - started;
    const name = error instanceof Error ? error.name : '';
    return {
      status: 0,
      body: null,
      ms,
      failure: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network',
    };
  }
}

/** Error kind for the report: `<what>-timeout`, `<what>-network`, `<what>-http-<status>`. */
export function failureKind(what: string, outcome: HttpOutcome): string {
  if (outcome.failure === 'timeout' || outcome.failure === 'network') return `${what}-${outcome.failure}`;
  if (outcome.status < 200 || outcome.status >= 300) return `${what}-http-${outcome.status}`;
  return `${what}-${outcome.failure ?? 'unexpected-body'}`;
}
