// The hub pods as local processes (no cluster here), for the chart and for the kustomize dev
// overlay: `helm template` with the default values and a chosen CLI token, or `kubectl kustomize
// k8s/overlays/dev` plus the Secret `kubectl create secret` makes (as the README's copy-paste
// path installs them); then each of the Deployment's replicas is run as `node … src/main.ts serve` with exactly the environment its pod
// gets (ConfigMap + Secret + env). Only what the cluster provides is local: the listen address
// (the pod IP), and REDIS_URL's host (the Redis Service's DNS name) pointing at a local
// redis-server. Then: the readiness probe path answers, `helm test`'s script passes against every
// pod, a REAL HAPI CLI runner connects to one pod with the token and the other pod lists its
// machine (state shared through Redis), and SIGTERM drains each pod within its grace period.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort, waitFor } from '../helpers/cluster.js';
import { ensureHapiCli, HapiProcesses, pollUntil } from '../helpers/hapi-cli.js';
import { randomToken } from '../helpers/hub.js';
import { startRedisServer, type RedisServerHandle } from '../helpers/redis-server.js';
import { loginWeb, webApi } from '../helpers/web-api.js';
import { hubPod } from './hub-invariants.js';
import { ensureK8sTools, REPO_ROOT, runTool } from './k8s-tools.js';
import { named, ofKind, onlyOne, parseManifests, type K8sObject } from './manifests.js';

const HOST = '127.0.0.1';
const TOKEN = randomToken().replace(/[^A-Za-z0-9]/g, '');

interface PodProcess {
  name: string;
  url: string;
  /** The pod's metrics listener (its container port `metrics`, here a local free port). */
  metricsUrl: string;
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

async function renderChart(): Promise<K8sObject[]> {
  const { helm } = await ensureK8sTools();
  const result = runTool(helm, [
    'template',
    'hapi',
    'deploy/helm/hapi-hub',
    '--namespace',
    'hapi',
    '--set',
    `secrets.cliApiToken=${TOKEN}`,
  ]);
  if (result.status !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return parseManifests(result.stdout);
}

async function renderDevOverlay(): Promise<K8sObject[]> {
  const { kubectl } = await ensureK8sTools();
  const result = runTool(kubectl, ['kustomize', 'k8s/overlays/dev']);
  if (result.status !== 0) throw new Error(`kubectl kustomize failed: ${result.stderr}`);
  // What `kubectl -n hapi-dev create secret generic hapi-hub-secrets --from-literal=CLI_API_TOKEN=…` creates.
  const secret: K8sObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'hapi-hub-secrets', namespace: 'hapi-dev' },
    type: 'Opaque',
    data: { CLI_API_TOKEN: Buffer.from(TOKEN).toString('base64') },
  };
  return [...parseManifests(result.stdout), secret];
}

const RENDERINGS: [string, () => Promise<K8sObject[]>][] = [
  ['chart (default values)', renderChart],
  ['kustomize overlays/dev', renderDevOverlay],
];

/** Runs a container's command (node + args) locally with its env, HUB_URL replaced. */
function runContainer(container: any, hubUrl: string): Promise<{ status: number | null; output: string }> {
  const [command, ...args] = [...container.command, ...container.args] as string[];
  expect(command).toBe('node');
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH, HUB_URL: hubUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30_000,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, output })));
}

const cli = await ensureHapiCli();
if (cli.reason) console.warn(`[deploy] real HAPI CLI against the chart's pods SKIPPED: ${cli.reason}`);

describe.each(RENDERINGS)('hub pods of the %s as local processes', { timeout: 120_000 }, (_label, render) => {
  let objects: K8sObject[];
  let redis: RedisServerHandle;
  const pods: PodProcess[] = [];
  const killAll = () => {
    for (const pod of pods) {
      try {
        if (pod.child.pid !== undefined) process.kill(-pod.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };

  beforeAll(async () => {
    process.once('exit', killAll);
    objects = await render();
    const { deployment, container, env } = hubPod(objects);
    // With the password the pods get (the internal Redis's generated Secret), as their Redis requires it.
    redis = await startRedisServer({
      appendonly: true,
      ...(env.REDIS_PASSWORD ? { requirepass: env.REDIS_PASSWORD } : {}),
    });
    // REDIS_URL names the chart's Redis Service, which cluster DNS would resolve.
    const rendered = new URL(env.REDIS_URL!);
    expect(named(objects, 'Service', rendered.hostname), `Service ${rendered.hostname}`).toBeDefined();
    const replicas = deployment.spec.replicas as number;
    expect(replicas).toBe(2);
    for (let i = 0; i < replicas; i++) {
      const port = await findFreePort();
      const metricsPort = await findFreePort();
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...(container.args as string[])], {
        cwd: REPO_ROOT,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          ...env,
          HAPI_LISTEN_HOST: HOST,
          HAPI_LISTEN_PORT: String(port),
          HAPI_METRICS_HOST: HOST,
          HAPI_METRICS_PORT: String(metricsPort),
          REDIS_URL: redis.url,
        },
      });
      const pod: PodProcess = {
        name: `pod-${i}`,
        url: `http://${HOST}:${port}`,
        metricsUrl: `http://${HOST}:${metricsPort}/metrics`,
        child,
        output: [],
        exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
      };
      const keep = (chunk: Buffer) => {
        pod.output.push(
          ...chunk
            .toString()
            .split('\n')
            .filter((l) => l !== ''),
        );
        if (pod.output.length > 400) pod.output.splice(0, pod.output.length - 400);
      };
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      pods.push(pod);
    }
    const readiness = container.readinessProbe.httpGet.path as string;
    await Promise.all(
      pods.map((pod) =>
        waitFor(`${pod.name} ${readiness}`, 90_000, async () => {
          if (pod.child.exitCode !== null) throw new Error(`${pod.name} exited:\n${pod.output.slice(-30).join('\n')}`);
          try {
            return (await fetch(`${pod.url}${readiness}`)).status === 200;
          } catch {
            return false;
          }
        }),
      ),
    );
  }, 180_000);

  afterAll(async () => {
    killAll();
    await redis?.stop();
  });

  it('every pod runs with the rendered configuration (one worker, the chosen token, Redis)', () => {
    const { env } = hubPod(objects);
    expect(env.HAPI_WORKERS).toBe('1');
    expect(env.CLI_API_TOKEN).toBe(TOKEN);
    for (const pod of pods) expect(pod.child.exitCode, pod.name).toBeNull();
  });

  it('every pod requires the generated Redis password and serves metrics on its metrics port only', async () => {
    const { env } = hubPod(objects);
    expect(env.REDIS_PASSWORD?.length).toBeGreaterThanOrEqual(32);
    for (const pod of pods) {
      expect(pod.output.join('\n')).not.toContain(env.REDIS_PASSWORD);
      expect((await fetch(pod.metricsUrl)).status, pod.name).toBe(200);
      expect((await fetch(`${pod.url}/metrics`)).status, pod.name).toBe(404);
    }
  });

  it("`helm test`'s connection script passes against every pod", async () => {
    // The chart's test Pod (kustomize has none; its pods get the chart's script all the same).
    const testPod = onlyOne(await renderChart(), 'Pod');
    for (const pod of pods) {
      const result = await runContainer(testPod.spec.containers[0], pod.url);
      expect(result.status, `${pod.name}: ${result.output}`).toBe(0);
    }
  });

  describe.skipIf(!cli.bin)('a real HAPI CLI', () => {
    let procs: HapiProcesses;
    beforeAll(() => {
      procs = new HapiProcesses(cli.bin!);
    });
    afterAll(async () => {
      await procs?.cleanup();
    });

    it('connects its runner to one pod with the token; the other pod lists the machine online', async () => {
      const workspace = procs.tempDir('workspace');
      mkdirSync(join(workspace, 'src'));
      const runner = procs.spawn(['runner', 'start-sync', '--workspace-root', workspace], {
        hubUrl: pods[0]!.url,
        token: TOKEN,
      });
      const machineId = (await runner.waitForOutput(/Machine ID:\s+(\S+)/, 60_000))[1]!;
      const web = webApi(pods[1]!.url, await loginWeb(pods[1]!.url, TOKEN));
      const machine = await pollUntil(async () => {
        const response = await web.get<{ machines: any[] }>('/api/machines');
        const found = response.body.machines?.find((m) => m.id === machineId);
        return found?.runnerState?.status === 'running' ? found : undefined;
      }, 'machine online in GET /api/machines on the other pod');
      expect(machine).toMatchObject({
        id: machineId,
        active: true,
        runnerState: { status: 'running', pid: runner.pid },
      });
    });
  });

  it('SIGTERM drains every pod: exit 0 within the grace period the chart gives', async () => {
    const { deployment } = hubPod(objects);
    const graceMs = (deployment.spec.template.spec.terminationGracePeriodSeconds as number) * 1000;
    const started = Date.now();
    for (const pod of pods) process.kill(-pod.child.pid!, 'SIGTERM');
    const codes = await Promise.all(pods.map((pod) => pod.exited));
    expect(codes).toEqual(pods.map(() => 0));
    expect(Date.now() - started).toBeLessThan(graceMs);
    expect(ofKind(objects, 'Deployment')).toHaveLength(1);
  }, 120_000);
});
