// Shared pieces of the interop suites: an in-process hub on the system clock with its sweeper
// running (the real CLI keeps real time), a web client (JWT from POST /api/auth) and an SSE
// recorder for GET /api/events.
import { systemClock } from '../../src/services/clock.js';
import { startTestHub, type TestHub, type TestHubOptions } from '../helpers/hub.js';
import { CliTraffic, pollUntil } from '../helpers/hapi-cli.js';

export interface InteropHub extends TestHub {
  traffic: CliTraffic;
}

/** A real hub (memory engine) on the wall clock with the presence sweeper running. */
export async function startInteropHub(options: TestHubOptions = {}): Promise<InteropHub> {
  const hub = await startTestHub({ clock: systemClock, startSweeper: true, sweepIntervalMs: 250, ...options });
  return Object.assign(hub, { traffic: new CliTraffic(hub.hub.io) });
}

export interface JsonResponse<T = any> {
  status: number;
  body: T;
}

/** The web plane as a browser would use it, authenticated with a namespace's JWT. */
export class WebClient {
  private constructor(
    readonly baseUrl: string,
    readonly jwt: string,
  ) {}

  /** POST /api/auth {accessToken} → JWT (asserts 200). */
  static async login(baseUrl: string, accessToken: string): Promise<WebClient> {
    const res = await fetch(`${baseUrl}/api/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accessToken }),
    });
    const body = (await res.json()) as { token?: string };
    if (res.status !== 200 || typeof body.token !== 'string') {
      throw new Error(`POST /api/auth answered ${res.status} ${JSON.stringify(body)}`);
    }
    return new WebClient(baseUrl, body.token);
  }

  async request<T = any>(method: string, path: string, body?: unknown): Promise<JsonResponse<T>> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.jwt}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // keep the text: a non-JSON answer is itself a finding
    }
    return { status: res.status, body: parsed as T };
  }

  get<T = any>(path: string) {
    return this.request<T>('GET', path);
  }

  post<T = any>(path: string, body: unknown = {}) {
    return this.request<T>('POST', path, body);
  }

  async machines(): Promise<any[]> {
    const res = await this.get<{ machines: any[] }>('/api/machines');
    if (res.status !== 200) throw new Error(`GET /api/machines answered ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.machines;
  }

  async machine(id: string): Promise<any | undefined> {
    return (await this.machines()).find((m) => m.id === id);
  }

  async sessions(): Promise<any[]> {
    const res = await this.get<{ sessions: any[] }>('/api/sessions');
    if (res.status !== 200) throw new Error(`GET /api/sessions answered ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.sessions;
  }

  async session(id: string): Promise<any> {
    const res = await this.get<{ session: any }>(`/api/sessions/${id}`);
    if (res.status !== 200) throw new Error(`GET /api/sessions/${id} answered ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.session;
  }

  /** Opens GET /api/events with this client's JWT (query `token`, as the web app does). */
  events(query: Record<string, string> = { all: 'true' }): Promise<SseRecorder> {
    return SseRecorder.open(this.baseUrl, this.jwt, query);
  }
}

export interface SseEvent {
  id: string | null;
  data: any;
  at: number;
}

/** Reads an SSE stream in the background and records every `data:` frame (parsed JSON). */
export class SseRecorder {
  readonly events: SseEvent[] = [];
  private closed = false;

  private constructor(private readonly controller: AbortController) {}

  static async open(baseUrl: string, jwt: string, query: Record<string, string>): Promise<SseRecorder> {
    const controller = new AbortController();
    const qs = new URLSearchParams({ token: jwt, visibility: 'visible', ...query });
    const res = await fetch(`${baseUrl}/api/events?${qs.toString()}`, { signal: controller.signal, headers: { accept: 'text/event-stream' } });
    if (res.status !== 200 || !res.body) {
      controller.abort();
      throw new Error(`GET /api/events answered ${res.status} ${await res.text().catch(() => '')}`);
    }
    const recorder = new SseRecorder(controller);
    void recorder.pump(res.body);
    await pollUntil(() => recorder.events.some((e) => e.data?.type === 'connection-changed'), 'SSE connection-changed', 10_000, 20);
    return recorder;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    let id: string | null = null;
    let data: string[] = [];
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, cut).replace(/\r$/, '');
          buffer = buffer.slice(cut + 1);
          if (line === '') {
            if (data.length > 0) {
              const raw = data.join('\n');
              let parsed: unknown = raw;
              try {
                parsed = JSON.parse(raw);
              } catch {
                // keep raw
              }
              this.events.push({ id, data: parsed, at: Date.now() });
            }
            id = null;
            data = [];
          } else if (line.startsWith('data:')) {
            data.push(line.slice(5).replace(/^ /, ''));
          } else if (line.startsWith('id:')) {
            id = line.slice(3).trim();
          }
        }
      }
    } catch {
      // aborted by close()
    }
  }

  /** Recorded events of `type` (optionally matching `filter`). */
  of(type: string, filter: (event: any) => boolean = () => true): any[] {
    return this.events.map((e) => e.data).filter((d) => d?.type === type && filter(d));
  }

  waitFor(type: string, filter: (event: any) => boolean = () => true, timeoutMs = 20_000): Promise<any> {
    return pollUntil(() => this.of(type, filter)[0], `SSE ${type}`, timeoutMs, 25);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.controller.abort();
  }
}

/** Prints one line saying why a suite is skipped (vitest only shows "skipped"). */
export function announceSkip(suite: string, reason: string | undefined): void {
  if (reason) console.warn(`[interop] ${suite} SKIPPED: ${reason}`);
}
