// HTTP client for the hub's /api routes: POST /api/auth, then Bearer-JWT requests. Every
// response body is parsed as JSON when the hub says it is JSON (else kept as text, so a test can
// assert "this was JSON").
import { expect } from 'vitest';
import { httpJson, type HttpResult } from './cli-client.js';

export interface WebRequestInit {
  body?: unknown;
  /** Sent verbatim (e.g. malformed JSON). */
  rawBody?: string;
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean>;
}

export interface WebApi {
  jwt: string;
  request<T = any>(method: string, path: string, init?: WebRequestInit): Promise<HttpResult<T>>;
  get<T = any>(path: string, query?: WebRequestInit['query'], headers?: Record<string, string>): Promise<HttpResult<T>>;
  post<T = any>(path: string, body?: unknown): Promise<HttpResult<T>>;
  patch<T = any>(path: string, body?: unknown): Promise<HttpResult<T>>;
  del<T = any>(path: string): Promise<HttpResult<T>>;
}

/** POST /api/auth {accessToken} → the JWT (asserts 200). */
export async function loginWeb(baseUrl: string, accessToken: string): Promise<string> {
  const response = await httpJson<{ token: string }>(`${baseUrl}/api/auth`, { method: 'POST', body: { accessToken } });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.token;
}

export function webApi(baseUrl: string, jwt: string): WebApi {
  const request = <T = any>(method: string, path: string, init: WebRequestInit = {}) => {
    const query = init.query
      ? `?${new URLSearchParams(Object.entries(init.query).map(([k, v]): [string, string] => [k, String(v)]))}`
      : '';
    return httpJson<T>(`${baseUrl}${path}${query}`, {
      method,
      headers: { authorization: `Bearer ${jwt}`, ...init.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
      ...(init.rawBody !== undefined ? { rawBody: init.rawBody } : {}),
    });
  };
  return {
    jwt,
    request,
    get: (path, query, headers) =>
      request('GET', path, { ...(query ? { query } : {}), ...(headers ? { headers } : {}) }),
    post: (path, body) => request('POST', path, body !== undefined ? { body } : {}),
    patch: (path, body) => request('PATCH', path, body !== undefined ? { body } : {}),
    del: (path) => request('DELETE', path),
  };
}
