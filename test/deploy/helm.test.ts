// deploy/helm/hapi-hub: `helm lint --strict` and `helm template` with the default values and with
// every ci/*-values.yaml; the chart as a subchart of a parent chart (Helm injects `global`);
// every rendering passes the same invariants as the kustomize overlays (hub-invariants.ts), strict
// schema check included. Plus the values schema, the refusals, the `helm test` connection check
// run against a real hub, and NOTES.txt.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { hubManifestInvariants, type HubExpectations } from './hub-invariants.js';
import { IMAGE_NAME_AND_TAG, IMAGE_TAG } from './image.js';
import { ensureK8sTools, REPO_ROOT, runTool } from './k8s-tools.js';
import { onlyOne, ofKind, parseManifests, secretEntries, type K8sObject } from './manifests.js';
import { HUB_ENV_KEYS, startLiveHub, type LiveHub } from './sources.js';
import { strictSchemaErrors } from './strict-schema.js';

const CHART = 'deploy/helm/hapi-hub';
const CI_DIR = `${CHART}/ci`;
const PROD_VALUES = `${CI_DIR}/prod-values.yaml`;

async function helm(args: string[], cwd?: string) {
  const { helm: bin } = await ensureK8sTools();
  return runTool(bin, args, cwd === undefined ? {} : { cwd });
}

async function template(release: string, ...args: string[]): Promise<K8sObject[]> {
  return templateChart(CHART, release, ...args);
}

async function templateChart(chart: string, release: string, ...args: string[]): Promise<K8sObject[]> {
  const result = await helm(['template', release, chart, '--namespace', 'hapi', ...args]);
  if (result.status !== 0) throw new Error(`helm template ${chart} ${args.join(' ')} failed: ${result.stderr}`);
  return parseManifests(result.stdout);
}

const DEFAULTS: HubExpectations = {
  replicas: 2,
  workers: 1,
  redis: 'internal',
  ingress: 'none',
  gateway: false,
  secretRendered: true,
  secretRef: 'optional',
  drainTimeoutMs: 20_000,
};

/** What each ci/*-values.yaml renders; a new file there needs an entry (checked below). */
const CI_EXPECTATIONS: Record<string, HubExpectations> = {
  'prod-values.yaml': {
    ...DEFAULTS,
    replicas: 'hpa',
    redis: 'external',
    ingress: 'ingress-nginx',
    secretRendered: false,
    secretRef: 'required',
    drainTimeoutMs: 25_000,
  },
  'gateway-values.yaml': { ...DEFAULTS, redis: 'external', ingress: false, gateway: 'standard' },
  'gateway-experimental-values.yaml': { ...DEFAULTS, ingress: false, gateway: 'experimental' },
  'openshift-values.yaml': { ...DEFAULTS, fixedUid: false },
  'multiworker-values.yaml': { ...DEFAULTS, workers: 2, ingress: false },
};

const ciFiles = readdirSync(join(REPO_ROOT, CI_DIR))
  .filter((f) => f.endsWith('-values.yaml'))
  .sort();

describe('helm ci/ values files', () => {
  it('every ci/*-values.yaml has expectations here, and every expectation a file', () => {
    expect(ciFiles).toEqual(Object.keys(CI_EXPECTATIONS).sort());
  });
});

describe('helm lint', () => {
  it.each([
    ['default values', [] as string[]],
    ...ciFiles.map((f) => [f, ['-f', `${CI_DIR}/${f}`]] as [string, string[]]),
  ])(
    'passes --strict with %s',
    async (_label, args) => {
      const result = await helm(['lint', CHART, '--strict', ...args]);
      expect(result.stderr + result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(result.status).toBe(0);
    },
    120_000,
  );
});

describe('helm template (default values)', () => {
  hubManifestInvariants(() => template('hapi'), DEFAULTS);

  it('generates the internal Redis password once: a fresh random value per install, none without internal Redis', async () => {
    const password = async (...args: string[]) => {
      const secret = onlyOne(
        await template('hapi', ...args),
        'Secret',
        (o) => o.metadata.name === 'hapi-hapi-hub-redis',
      );
      return secretEntries(secret).REDIS_PASSWORD!;
    };
    const [first, second] = [await password(), await password()];
    expect(first).toMatch(/^[A-Za-z0-9]{48}$/);
    // `helm template` cannot `lookup`, so each rendering is a new install.
    expect(second).not.toBe(first);
    const external = await template(
      'hapi',
      '--set',
      'redis.internal.enabled=false',
      '--set',
      'redis.external.url=redis://r:6379',
    );
    expect(ofKind(external, 'Secret').map((o) => o.metadata.name)).toEqual(['hapi-hapi-hub']);
    expect(ofKind(external, 'NetworkPolicy')).toEqual([]);
    expect(onlyOne(external, 'Deployment').spec.template.spec.containers[0].env).toBeUndefined();
    // The template reads the Secret back before generating (so upgrades keep it).
    expect(readFileSync(join(REPO_ROOT, CHART, 'templates', 'redis-secret.yaml'), 'utf8')).toMatch(
      /lookup "v1" "Secret" \.Release\.Namespace \$name/,
    );
  });

  it('redis.internal.networkPolicy.enabled=false leaves the NetworkPolicy out', async () => {
    expect(
      ofKind(await template('hapi', '--set', 'redis.internal.networkPolicy.enabled=false'), 'NetworkPolicy'),
    ).toEqual([]);
  });

  it('creates a Secret without values (`data: {}`), so the hub generates the token and JWT secret', async () => {
    const secret = onlyOne(await template('hapi'), 'Secret', (o) => o.metadata.name === 'hapi-hapi-hub');
    expect(secret.data).toEqual({});
    expect(secretEntries(secret)).toEqual({});
  });
});

for (const file of ciFiles) {
  describe(`helm template (ci/${file})`, () => {
    hubManifestInvariants(() => template('hapi', '-f', `${CI_DIR}/${file}`), CI_EXPECTATIONS[file] ?? DEFAULTS);
  });
}

describe('helm template (ci/ specifics)', () => {
  it('prod: existing Secret required, TLS, zone spread, platform hooks, extraEnv, grace period from the drain', async () => {
    const objects = await template('hapi', '-f', PROD_VALUES);
    const deployment = onlyOne(objects, 'Deployment');
    const pod = deployment.spec.template.spec;
    const hub = pod.containers[0];
    expect(hub.envFrom).toEqual([
      { configMapRef: { name: 'hapi-hapi-hub' } },
      { configMapRef: { name: 'hapi-hub-site-env', optional: true } },
      { secretRef: { name: 'hapi-hub-secrets', optional: false } },
    ]);
    // preStop 5 + ceil(25000 / 1000) + 10
    expect(pod.terminationGracePeriodSeconds).toBe(40);
    expect(pod.topologySpreadConstraints.map((c: any) => c.topologyKey)).toEqual([
      'kubernetes.io/hostname',
      'topology.kubernetes.io/zone',
    ]);
    expect(pod.priorityClassName).toBe('hapi-hub-critical');
    expect(pod.containers.map((c: any) => c.name)).toEqual(['hub', 'log-shipper']);
    expect(pod.volumes.map((v: any) => v.name)).toEqual(['tmp', 'ca-bundle']);
    expect(hub.volumeMounts.map((m: any) => m.mountPath)).toEqual(['/tmp', '/etc/ssl/corporate']);
    expect(onlyOne(objects, 'ServiceAccount').metadata.annotations).toEqual({
      'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/hapi-hub',
    });
    const ingress = onlyOne(objects, 'Ingress');
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.tls).toEqual([{ secretName: 'hapi-hub-tls', hosts: ['hapi.example.com'] }]);
    // User annotations are added to the preset's, not instead of them.
    expect(ingress.metadata.annotations).toMatchObject({
      'cert-manager.io/cluster-issuer': 'letsencrypt',
      'nginx.ingress.kubernetes.io/affinity': 'cookie',
    });
    const configMap = onlyOne(objects, 'ConfigMap');
    expect(configMap.data.HAPI_MESSAGE_HISTORY_LIMIT).toBe('5000');
    expect(configMap.data.REDIS_URL).toMatch(/^redis\+sentinel:\/\//);
    expect(hub.image).toBe(`ghcr.io/example-org/${IMAGE_NAME_AND_TAG}`);
  });

  it('gateway: the Redis URL and the token in the chart Secret, not the ConfigMap; parentRefs as given', async () => {
    const objects = await template('hapi', '-f', `${CI_DIR}/gateway-values.yaml`);
    expect(onlyOne(objects, 'ConfigMap').data.REDIS_URL).toBeUndefined();
    expect(secretEntries(onlyOne(objects, 'Secret'))).toEqual({
      CLI_API_TOKEN: 'example-token-not-a-secret',
      REDIS_URL: 'redis+cluster://redis-0.redis:6379,redis-1.redis:6379,redis-2.redis:6379',
    });
    expect(onlyOne(objects, 'HTTPRoute').spec.parentRefs).toEqual([
      { name: 'public-gateway', namespace: 'gateway-system' },
    ]);
  });

  it('multiworker: HAPI_WORKERS=2 only from hub.workers, behind an L4 LoadBalancer Service', async () => {
    const objects = await template('hapi', '-f', `${CI_DIR}/multiworker-values.yaml`);
    expect(onlyOne(objects, 'ConfigMap').data.HAPI_WORKERS).toBe('2');
    expect(onlyOne(objects, 'Service', (s) => s.metadata.name === 'hapi-hapi-hub').spec.type).toBe('LoadBalancer');
    expect(ofKind(objects, 'Ingress')).toEqual([]);
  });
});

describe('helm chart as a subchart (umbrella chart, Argo CD app-of-apps)', () => {
  let parentDir: string;

  beforeAll(async () => {
    mkdirSync(join(REPO_ROOT, '.cache'), { recursive: true });
    parentDir = mkdtempSync(join(REPO_ROOT, '.cache', 'helm-parent-'));
    writeFileSync(
      join(parentDir, 'Chart.yaml'),
      [
        'apiVersion: v2',
        'name: platform',
        'version: 1.0.0',
        'dependencies:',
        '  - name: hapi-hub',
        '    version: 0.1.0',
        `    repository: file://${join(REPO_ROOT, CHART)}`,
        '',
      ].join('\n'),
    );
    // A parent has templates of its own (lint --strict warns about a missing templates/).
    mkdirSync(join(parentDir, 'templates'));
    writeFileSync(join(parentDir, 'templates', 'NOTES.txt'), 'platform {{ .Chart.Version }}\n');
    // Globals as an umbrella chart sets them for all its subcharts, and values for this one.
    writeFileSync(
      join(parentDir, 'values.yaml'),
      [
        'global:',
        '  imageRegistry: registry.example.com',
        '  environment: staging',
        'hapi-hub:',
        '  replicaCount: 3',
        '  hub:',
        '    logLevel: warn',
        '',
      ].join('\n'),
    );
    const build = await helm(['dependency', 'update', '--skip-refresh', parentDir]);
    if (build.status !== 0) throw new Error(`helm dependency update failed: ${build.stderr}`);
  }, 300_000);
  afterAll(() => {
    if (parentDir) rmSync(parentDir, { recursive: true, force: true });
  });

  it('lints --strict with global values injected', async () => {
    const result = await helm(['lint', parentDir, '--strict', '--with-subcharts']);
    expect(result.stderr + result.stdout).not.toContain("additional properties 'global' not allowed");
    expect(result.status, result.stderr + result.stdout).toBe(0);
  }, 120_000);

  hubManifestInvariants(() => templateChart(parentDirOrThrow(), 'umbrella'), { ...DEFAULTS, replicas: 3 });

  function parentDirOrThrow(): string {
    if (!parentDir) throw new Error('parent chart not built');
    return parentDir;
  }

  it('takes the parent values for the subchart (names from the release and chart)', async () => {
    const objects = await templateChart(parentDirOrThrow(), 'umbrella');
    expect(onlyOne(objects, 'Deployment').metadata.name).toBe('umbrella-hapi-hub');
    expect(onlyOne(objects, 'ConfigMap').data.LOG_LEVEL).toBe('warn');
  });
});

describe('helm values', () => {
  const schema = JSON.parse(readFileSync(join(REPO_ROOT, CHART, 'values.schema.json'), 'utf8'));
  const configMapTemplate = readFileSync(join(REPO_ROOT, CHART, 'templates', 'configmap.yaml'), 'utf8');
  // The chart's own list of variables it sets ($managed in templates/configmap.yaml).
  const managed = /\$managed := list ((?:"[A-Z_]+" ?)+)/.exec(configMapTemplate)![1]!.match(/[A-Z_]+/g)!;

  it('hub.extraEnv allows exactly the hub variables the chart does not set itself (no duplicate keys, no secrets in the ConfigMap)', () => {
    const allowed: string[] = schema.properties.hub.properties.extraEnv.propertyNames.enum;
    expect(allowed.filter((k) => managed.includes(k))).toEqual([]);
    expect([...allowed, ...managed].sort()).toEqual([...HUB_ENV_KEYS].sort());
    for (const secret of ['CLI_API_TOKEN', 'HAPI_JWT_SECRET', 'REDIS_URL']) expect(allowed).not.toContain(secret);
  });

  it("the chart's managed list covers every variable it renders", async () => {
    const objects = await template(
      'hapi',
      '--set',
      'hub.corsOrigins=*',
      '--set',
      'secrets.cliApiToken=abc',
      '--set',
      'secrets.jwtSecret=0123456789abcdef0123',
    );
    const hubSecret = onlyOne(objects, 'Secret', (o) => o.metadata.name === 'hapi-hapi-hub');
    const hubContainer = onlyOne(objects, 'Deployment').spec.template.spec.containers[0];
    const rendered = [
      ...Object.keys(onlyOne(objects, 'ConfigMap').data),
      ...Object.keys(secretEntries(hubSecret)),
      ...((hubContainer.env ?? []) as { name: string }[]).map((e) => e.name),
    ];
    expect(rendered.filter((k) => !managed.includes(k))).toEqual([]);
  });

  it('accepts `global` (Helm injects it into subcharts) on the chart itself', async () => {
    const result = await helm(['template', 'hapi', CHART, '--set', 'global.anything=1']);
    expect(result.status, result.stderr).toBe(0);
  });

  it('refuses a release without Redis, naming the ways to give it one', async () => {
    const result = await helm(['template', 'hapi', CHART, '--set', 'redis.internal.enabled=false']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('hapi-hub: Redis is required');
  });

  it("refuses `io` as the LB cookie (Socket.IO's own), unknown or chart-set hub variables, and 0 workers", async () => {
    const cookie = await helm(['template', 'hapi', CHART, '--set', 'affinityCookieName=io']);
    expect(cookie.status).not.toBe(0);
    expect(cookie.stderr).toContain('/affinityCookieName');
    const typo = await helm(['template', 'hapi', CHART, '--set', 'hub.extraEnv.HAPI_TYPO_MS=1']);
    expect(typo.status).not.toBe(0);
    expect(typo.stderr).toContain("invalid propertyName 'HAPI_TYPO_MS'");
    const secret = await helm(['template', 'hapi', CHART, '--set', 'hub.extraEnv.CLI_API_TOKEN=abc']);
    expect(secret.status).not.toBe(0);
    expect(secret.stderr).toContain("invalid propertyName 'CLI_API_TOKEN'");
    const workers = await helm(['template', 'hapi', CHART, '--set', 'hub.workers=0']);
    expect(workers.status).not.toBe(0);
    expect(workers.stderr).toContain('/hub/workers');
  });

  it('without the schema (--skip-schema-validation) a chart-set variable in extraEnv still fails, by name', async () => {
    const result = await helm([
      'template',
      'hapi',
      CHART,
      '--skip-schema-validation',
      '--set',
      'hub.extraEnv.HAPI_PUBLIC_URL=http://x',
    ]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('hapi-hub: hub.extraEnv.HAPI_PUBLIC_URL is set by the chart');
  });

  it('renders a configuration change into the pod template (pods roll)', async () => {
    const before = onlyOne(await template('hapi'), 'Deployment').spec.template.metadata.annotations['checksum/config'];
    const after = onlyOne(await template('hapi', '--set', 'hub.logLevel=debug'), 'Deployment').spec.template.metadata
      .annotations['checksum/config'];
    expect(after).not.toBe(before);
  });

  it('without autoscaling has no HPA; with it the Deployment leaves replicas to the HPA', async () => {
    expect(ofKind(await template('hapi'), 'HorizontalPodAutoscaler')).toEqual([]);
    const objects = await template('hapi', '--set', 'autoscaling.enabled=true');
    expect(onlyOne(objects, 'HorizontalPodAutoscaler').spec).toMatchObject({ minReplicas: 3, maxReplicas: 12 });
    expect(onlyOne(objects, 'Deployment').spec.replicas).toBeUndefined();
  });

  it('serviceAccount.create=false uses the named account and renders none', async () => {
    const objects = await template(
      'hapi',
      '--set',
      'serviceAccount.create=false',
      '--set',
      'serviceAccount.name=platform-sa',
    );
    expect(ofKind(objects, 'ServiceAccount')).toEqual([]);
    expect(onlyOne(objects, 'Deployment').spec.template.spec.serviceAccountName).toBe('platform-sa');
  });

  it('affinity replaces the default anti-affinity', async () => {
    const objects = await template(
      'hapi',
      '--set',
      'affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=pool',
      '--set',
      'affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator=Exists',
    );
    const affinity = onlyOne(objects, 'Deployment').spec.template.spec.affinity;
    expect(Object.keys(affinity)).toEqual(['nodeAffinity']);
    expect(strictSchemaErrors(objects)).toEqual([]);
  });

  it('the strict check catches a typo the kubernetes-models validation lets through', async () => {
    const objects = await template('hapi');
    const deployment = onlyOne(objects, 'Deployment');
    deployment.spec.template.spec.containers[0].readinessProbe.periodSecond = 5;
    expect(strictSchemaErrors([deployment])).toEqual([
      expect.stringContaining(
        'spec.template.spec.containers[0].readinessProbe.periodSecond: Object literal may only specify known properties',
      ),
    ]);
  });

  it('requires Kubernetes >= 1.27 (PodDisruptionBudget unhealthyPodEvictionPolicy is beta and on from 1.27)', async () => {
    expect(onlyOne(await template('hapi'), 'PodDisruptionBudget').spec.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
    const old = await helm(['template', 'hapi', CHART, '--kube-version', '1.26.9']);
    expect(old.status).not.toBe(0);
    expect(old.stderr).toContain('chart requires kubeVersion: >=1.27.0-0');
    expect((await helm(['template', 'hapi', CHART, '--kube-version', '1.27.0'])).status).toBe(0);
  });

  it('the chart version and appVersion are the image tag', () => {
    const chart = parseYaml(readFileSync(join(REPO_ROOT, CHART, 'Chart.yaml'), 'utf8')) as {
      version: string;
      appVersion: string;
    };
    expect(chart.appVersion).toBe(IMAGE_TAG);
    expect(chart.version).toBe(IMAGE_TAG);
  });
});

describe('helm test (templates/tests/test-connection.yaml)', () => {
  let live: LiveHub;
  beforeAll(async () => {
    live = await startLiveHub();
  }, 120_000);
  afterAll(async () => {
    await live?.hub.close();
  });

  async function testPod(): Promise<K8sObject> {
    const pods = ofKind(await template('hapi'), 'Pod');
    expect(pods.length).toBe(1);
    return pods[0]!;
  }

  /** Runs the test Pod's container command locally (same node, same script) against `url`. */
  async function runTestPod(url: string) {
    const container = (await testPod()).spec.containers[0];
    const [command, ...args] = [...container.command, ...container.args] as string[];
    expect(command).toBe('node');
    // Asynchronously: the live hub answers from this process's event loop.
    const child = spawn(process.execPath, args, {
      env: { ...process.env, HUB_URL: url },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    return { status, output };
  }

  it('is a helm test hook Pod on the hub image that targets the release Service', async () => {
    const pod = await testPod();
    expect(pod.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'test' });
    expect(pod.spec.restartPolicy).toBe('Never');
    const container = pod.spec.containers[0];
    expect(container.image).toBe(IMAGE_NAME_AND_TAG);
    expect(container.env).toEqual([{ name: 'HUB_URL', value: 'http://hapi-hapi-hub:3006' }]);
    expect(container.args[0]).toBe(readFileSync(join(REPO_ROOT, CHART, 'files', 'connection-test.mjs'), 'utf8'));
  });

  it('passes against a real hub: /health, /ready and a Socket.IO handshake', async () => {
    const result = await runTestPod(live.hub.url);
    expect(result.output).toContain('ok   GET /health: 200');
    expect(result.output).toContain('ok   GET /ready: 200');
    expect(result.output).toContain('ok   Socket.IO handshake: 200');
    expect(result.status, result.output).toBe(0);
  }, 60_000);

  it('fails when what answers is an HTTP server but not a hub, or nothing', async () => {
    const other = createServer((_request, response) => response.end('ok'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const { port } = other.address() as AddressInfo;
    try {
      const notHub = await runTestPod(`http://127.0.0.1:${port}`);
      expect(notHub.output).toContain('FAIL GET /health: 200 ok');
      expect(notHub.status).toBe(1);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
    // The port is closed now: nothing answers.
    const nothing = await runTestPod(`http://127.0.0.1:${port}`);
    expect(nothing.output).toContain('FAIL GET /health: 0');
    expect(nothing.status).toBe(1);
  }, 60_000);
});

describe('helm NOTES.txt', () => {
  async function notes(...args: string[]): Promise<string> {
    // --dry-run=client renders NOTES without a cluster; KUBECONFIG points nowhere on purpose.
    const result = await helm([
      'install',
      'hapi',
      CHART,
      '--namespace',
      'hapi',
      '--dry-run=client',
      '--kubeconfig',
      join(REPO_ROOT, '.cache', 'no-kubeconfig'),
      ...args,
    ]);
    expect(result.status, result.stderr).toBe(0);
    return result.stdout.slice(result.stdout.indexOf('NOTES:'));
  }

  it('default: load the local image, wait, helm test, port-forward, find the generated token, connect a CLI', async () => {
    const text = await notes();
    expect(text).toContain(`docker build -f deploy/Dockerfile -t ${IMAGE_NAME_AND_TAG} .`);
    expect(text).toContain(`kind load docker-image ${IMAGE_NAME_AND_TAG}`);
    expect(text).toContain(`minikube image load ${IMAGE_NAME_AND_TAG}`);
    expect(text).toContain('kubectl -n hapi rollout status deployment/hapi-hapi-hub --timeout=5m');
    expect(text).toContain('helm -n hapi test hapi');
    expect(text).toContain('kubectl -n hapi port-forward svc/hapi-hapi-hub 3006:3006');
    expect(text).toContain(
      'kubectl -n hapi logs -l app.kubernetes.io/instance=hapi,app.kubernetes.io/component=hub --tail=-1 --prefix | grep CLI_API_TOKEN',
    );
    expect(text).toContain('kubectl -n hapi exec deploy/hapi-hapi-hub -- node dist/main.js ns create <namespace>');
    expect(text).toContain('HAPI_API_URL=<hub URL from 3> CLI_API_TOKEN=<token>[:<namespace>] hapi');
    expect(text).toContain('1 worker(s) per pod');
  });

  it('prod: a registry image (no load step), https URL, the required Secret to read the token from', async () => {
    const text = await notes('-f', PROD_VALUES);
    expect(text).not.toContain('kind load');
    expect(text).toContain('https://hapi.example.com/');
    expect(text).toContain(
      "kubectl -n hapi get secret hapi-hub-secrets -o jsonpath='{.data.CLI_API_TOKEN}' | base64 -d",
    );
    expect(text).toContain('the pods do not start until this Secret exists');
  });

  it('more than one worker: says which proxies are safe', async () => {
    expect(await notes('-f', `${CI_DIR}/multiworker-values.yaml`)).toContain('must not reuse upstream connections');
  });
});
