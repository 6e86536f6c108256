// The internal metrics listener (HAPI_METRICS_HOST:HAPI_METRICS_PORT): GET /metrics and nothing
// else. Metrics are kept off the public port, which is reachable through the Ingress / load
// balancer: they reveal tenants' activity and cost a full registry walk per request. In a cluster
// the primary runs this listener with the aggregate of its workers' registries (cluster/primary.ts);
// a single-process hub runs it with its own registry (hub/process.ts).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger.js';

export interface MetricsSource {
  contentType: string;
  /** The exposition text; rejects when it cannot be produced (e.g. a worker did not answer). */
  render(): Promise<string>;
}

export interface MetricsListener {
  /** The bound port (the OS's choice when HAPI_METRICS_PORT=0). */
  port: number;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

export function startMetricsListener(
  address: { host: string; port: number },
  source: MetricsSource,
  log: Logger,
): Promise<MetricsListener> {
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      json(res, 404, { error: 'Not found' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      json(res, 405, { error: 'Method not allowed' });
      return;
    }
    source.render().then(
      (text) => {
        res.statusCode = 200;
        res.setHeader('Content-Type', source.contentType);
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        log.warn({ err: error }, 'metrics unavailable');
        json(res, 503, { error: 'metrics unavailable' });
      },
    );
  };
  const server = createServer(handle);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      log.info({ host: address.host, port }, 'metrics listening (GET /metrics)');
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
