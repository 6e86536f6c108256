// One `docker compose` project of the repository's docker-compose.yml, for the container tests:
// its own project name, HAProxy published on a free 127.0.0.1 port, and a clean environment
// (only what the test sets, so a REDIS_URL or CLI_API_TOKEN of the caller never leaks into it).
import { randomBytes } from 'node:crypto';
import { findFreePort, waitFor } from '../helpers/cluster.js';
import { docker, dockerOk, REPO_ROOT } from '../helpers/docker.js';
import { lbCookieName } from '../deploy/sources.js';

export interface ComposeContainer {
  id: string;
  name: string;
  service: string;
  state: string;
  health: string;
}

export interface ComposeProject {
  name: string;
  port: number;
  lbUrl: string;
  /** `docker compose -p <name> …` with the project's environment; resolves with stdout. */
  compose(args: string[], timeoutMs?: number): Promise<string>;
  containers(service?: string): Promise<ComposeContainer[]>;
  logs(service: string): Promise<string>;
  /** Text of GET http://127.0.0.1:3006<path> inside the container (the replica itself, not through HAProxy). */
  fetchInside(containerId: string, path: string): Promise<string>;
  /** GET /metrics of a hub container, from inside it, on its internal metrics port (HAPI_METRICS_PORT). */
  metricsInside(containerId: string): Promise<string>;
  /** Distinct HAProxy affinity cookies (one per replica in use) over at most `maxHandshakes` polling handshakes. */
  lbReplicaCookies(maxHandshakes: number, stopAt?: number): Promise<Set<string>>;
  /** Waits until HAProxy spreads new sessions over exactly `replicas` replicas. */
  waitForLbReplicas(replicas: number, timeoutMs: number): Promise<void>;
}

export async function composeProject(extraEnv: Record<string, string> = {}): Promise<ComposeProject> {
  const name = `hapi-e2e-${process.pid}-${randomBytes(3).toString('hex')}`;
  const port = await findFreePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
    ...(process.env.DOCKER_CONFIG ? { DOCKER_CONFIG: process.env.DOCKER_CONFIG } : {}),
    HAPI_HTTP_BIND: '127.0.0.1',
    HAPI_HTTP_PORT: String(port),
    ...extraEnv,
  };
  const lbUrl = `http://127.0.0.1:${port}`;
  const compose = (args: string[], timeoutMs = 120_000) =>
    dockerOk(
      ['compose', '-p', name, '--project-directory', REPO_ROOT, '-f', `${REPO_ROOT}/docker-compose.yml`, ...args],
      { env, timeoutMs, cwd: REPO_ROOT },
    );

  const containers = async (service?: string): Promise<ComposeContainer[]> => {
    const ids = (
      await dockerOk([
        'ps',
        '-aq',
        '--filter',
        `label=com.docker.compose.project=${name}`,
        ...(service ? ['--filter', `label=com.docker.compose.service=${service}`] : []),
      ])
    )
      .split('\n')
      .filter(Boolean);
    if (ids.length === 0) return [];
    const inspected = JSON.parse(await dockerOk(['inspect', ...ids])) as {
      Id: string;
      Name: string;
      Config: { Labels: Record<string, string> };
      State: { Status: string; Health?: { Status: string } };
    }[];
    return inspected.map((c) => ({
      id: c.Id,
      name: c.Name.replace(/^\//, ''),
      service: c.Config.Labels['com.docker.compose.service'] ?? '',
      state: c.State.Status,
      health: c.State.Health?.Status ?? '',
    }));
  };

  // HAProxy balances by least connections, so short handshakes alone keep landing on the
  // replicas without long-lived connections (SSE streams, sockets). Each handshake therefore holds
  // a pending long-poll (a connection to its replica) until the end, which steers the next one
  // elsewhere; all sessions are closed again afterwards.
  const lbReplicaCookies = async (maxHandshakes: number, stopAt = Number.POSITIVE_INFINITY): Promise<Set<string>> => {
    const cookies = new Set<string>();
    const held: { sid: string; poll: AbortController }[] = [];
    try {
      for (let i = 0; i < maxHandshakes && cookies.size < stopAt; i++) {
        const open = await fetch(`${lbUrl}/socket.io/?EIO=4&transport=polling`, { signal: AbortSignal.timeout(5_000) });
        const body = await open.text();
        if (open.status !== 200) continue;
        const lb = open.headers
          .getSetCookie()
          .map((c) => c.split(';')[0]!.split('='))
          .find(([key]) => key === lbCookieName());
        if (lb?.[1]) cookies.add(lb[1]);
        const sid = (JSON.parse(body.slice(1)) as { sid: string }).sid;
        const poll = new AbortController();
        // No cookie sent: the stick table routes by sid (as for the CLI). Ends on abort or close.
        fetch(`${lbUrl}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, { signal: poll.signal })
          .then((r) => r.arrayBuffer())
          .catch(() => undefined);
        held.push({ sid, poll });
      }
    } finally {
      await Promise.all(
        held.map(async ({ sid, poll }) => {
          await fetch(`${lbUrl}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, {
            method: 'POST',
            body: '1',
            headers: { 'content-type': 'text/plain;charset=UTF-8' },
            signal: AbortSignal.timeout(5_000),
          })
            .then((r) => r.arrayBuffer())
            .catch(() => undefined);
          poll.abort();
        }),
      );
    }
    return cookies;
  };

  const fetchIn = (containerId: string, url: string): Promise<string> =>
    dockerOk(
      [
        'exec',
        containerId,
        'node',
        '-e',
        `fetch('${url}').then(r=>r.text()).then(t=>process.stdout.write(t),e=>{console.error(e);process.exit(1)})`,
      ],
      { timeoutMs: 30_000 },
    );
  return {
    name,
    port,
    lbUrl,
    compose,
    containers,
    logs: (service) => compose(['logs', '--no-color', '--no-log-prefix', service]),
    fetchInside: (containerId, path) => fetchIn(containerId, `http://127.0.0.1:3006${path}`),
    metricsInside: (containerId) => fetchIn(containerId, 'http://127.0.0.1:9464/metrics'),
    lbReplicaCookies,
    async waitForLbReplicas(replicas, timeoutMs) {
      let seen = 0;
      let lastError = '';
      await waitFor(`HAProxy to use ${replicas} replicas`, timeoutMs, async () => {
        seen = (
          await lbReplicaCookies(4 * replicas + 8).catch((error: Error) => {
            lastError = String(error.cause ?? error.message);
            return new Set<string>();
          })
        ).size;
        return seen === replicas;
      }).catch((error: Error) => {
        throw new Error(`${error.message}: saw ${seen}${lastError ? `, last error: ${lastError}` : ''}`);
      });
    },
  };
}

/** Value of a Prometheus gauge/counter line `name{…} value` or `name value` (summed over labels). */
export function metricValue(metrics: string, name: string): number {
  let total = 0;
  for (const line of metrics.split('\n')) {
    const match = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (match) total += Number(match[2]);
  }
  return total;
}

/** Leftovers of a compose project: containers, volumes, networks carrying its label. */
export async function projectLeftovers(name: string): Promise<string[]> {
  const label = `label=com.docker.compose.project=${name}`;
  const list = async (args: string[]) => (await docker(args)).stdout.split('\n').filter(Boolean);
  return [
    ...(await list(['ps', '-aq', '--filter', label])).map((id) => `container ${id}`),
    ...(await list(['volume', 'ls', '-q', '--filter', label])).map((id) => `volume ${id}`),
    ...(await list(['network', 'ls', '-q', '--filter', label])).map((id) => `network ${id}`),
  ];
}
