// Every error path of the Koa app ends in a JSON body and one JSON log line — including failures
// while the response is written (an unserialisable body, a stream body that fails) — and
// client-caused error lines are rate-limited per connection, the rest counted.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { installJsonFallbacks, jsonErrors } from '../../src/http/errors.js';
import {
  createErrorLogLimiter,
  ERROR_LOG_WINDOW_MS,
  ERROR_LOGS_PER_CONNECTION_PER_WINDOW,
  ERROR_LOGS_PER_WORKER_PER_WINDOW,
} from '../../src/ops/error-log-limiter.js';
import { createMetrics, type HubMetrics } from '../../src/ops/metrics.js';
import { httpJson } from '../helpers/cli-client.js';
import { captureLogs } from '../helpers/log-capture.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(app: Koa): Promise<string> {
  const server = createServer(app.callback());
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function counter(metrics: HubMetrics, name: string, source: string): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return metric?.values.find((v) => v.labels.source === source)?.value ?? 0;
}

function appWith(route: (ctx: Koa.Context) => void | Promise<void>) {
  const logs = captureLogs();
  const metrics = createMetrics();
  const limiter = createErrorLogLimiter(logs.log, metrics);
  const app = new Koa();
  installJsonFallbacks(app, limiter);
  app.use(jsonErrors(limiter));
  app.use(async (ctx) => route(ctx));
  return { app, logs, metrics };
}

describe('JSON error paths', () => {
  it('a body JSON cannot serialise → 500 JSON internal_error and one log line', async () => {
    const { app, logs } = appWith((ctx) => {
      ctx.body = { n: 1n };
    });
    const res = await httpJson(`${await serve(app)}/x`);
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.body).toEqual({ error: 'Internal server error', code: 'internal_error' });
    expect(logs.errors()).toHaveLength(1);
    expect(logs.errors()[0]).toMatchObject({ msg: 'unhandled request error', path: '/x' });
  });

  it('a stream body that fails mid-response → the connection is cut (never Koa text), one log line', async () => {
    // Koa pipes stream bodies with stream.pipeline, which destroys the response on failure: there
    // is nothing left to answer on, so the only trace is the log line.
    const { app, logs } = appWith((ctx) => {
      ctx.body = new Readable({
        read() {
          this.destroy(new Error('disk on fire'));
        },
      });
    });
    await expect(httpJson(`${await serve(app)}/stream`)).rejects.toThrow();
    await expect.poll(() => logs.errors().length).toBe(1);
    expect(logs.errors()[0]).toMatchObject({ msg: 'request failed outside the route', path: '/stream' });
  });

  it('errors carrying a 4xx status answer that status as JSON and are not logged', async () => {
    const { app, logs } = appWith((ctx) => {
      ctx.throw(418, 'short and stout');
    });
    const res = await httpJson(`${await serve(app)}/teapot`);
    expect(res).toMatchObject({ status: 418, body: { error: 'short and stout', code: 'bad_request' } });
    expect(logs.errors()).toEqual([]);
  });

  it('client error lines are rate-limited per connection and counted', async () => {
    const { app, logs, metrics } = appWith(() => {
      throw new Error('boom');
    });
    const url = await serve(app);
    const total = ERROR_LOGS_PER_CONNECTION_PER_WINDOW * 3;
    // fetch keeps one connection alive for sequential requests.
    for (let i = 0; i < total; i++) expect((await httpJson(`${url}/boom`)).status).toBe(500);
    expect(await counter(metrics, 'hapi_client_errors_total', 'http')).toBe(total);
    const logged = logs.errors().length;
    expect(logged).toBeGreaterThanOrEqual(ERROR_LOGS_PER_CONNECTION_PER_WINDOW);
    expect(logged).toBeLessThan(total);
    expect(await counter(metrics, 'hapi_client_error_logs_suppressed_total', 'http')).toBe(total - logged);
  });
});

describe('error log limiter', () => {
  it('logs the first N per connection and window, counts the rest, and opens again after the window', async () => {
    const logs = captureLogs();
    const metrics = createMetrics();
    let now = 1_000_000;
    const limiter = createErrorLogLimiter(logs.log, metrics, () => now);
    const a = {};
    const b = {};
    for (let i = 0; i < 50; i++) limiter.error(a, 'cli-event', { i }, 'cli event failed');
    limiter.error(b, 'cli-event', {}, 'cli event failed');
    expect(logs.errors()).toHaveLength(ERROR_LOGS_PER_CONNECTION_PER_WINDOW + 1);
    expect(await counter(metrics, 'hapi_client_errors_total', 'cli-event')).toBe(51);
    expect(await counter(metrics, 'hapi_client_error_logs_suppressed_total', 'cli-event')).toBe(
      50 - ERROR_LOGS_PER_CONNECTION_PER_WINDOW,
    );
    now += ERROR_LOG_WINDOW_MS;
    limiter.error(a, 'cli-event', {}, 'cli event failed');
    expect(logs.errors()).toHaveLength(ERROR_LOGS_PER_CONNECTION_PER_WINDOW + 2);
  });

  it('bounds what many connections write together per window', () => {
    const logs = captureLogs();
    const limiter = createErrorLogLimiter(logs.log, createMetrics(), () => 0);
    for (let i = 0; i < ERROR_LOGS_PER_WORKER_PER_WINDOW * 2; i++) limiter.error({}, 'http', {}, 'x');
    expect(logs.errors()).toHaveLength(ERROR_LOGS_PER_WORKER_PER_WINDOW);
  });
});
