// deploy/helm/hapi-hub: `helm lint --strict` and `helm template` with the default values and the
// prod-like / Gateway API values in the chart's ci/ folder; every rendering passes the same
// invariants as the kustomize overlays (hub-invariants.ts). Plus the values schema, the refusals
// and NOTES.txt.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hubManifestInvariants } from './hub-invariants.js';
import { ensureK8sTools, REPO_ROOT, runTool } from './k8s-tools.js';
import { onlyOne, ofKind, parseManifests, secretEntries, type K8sObject } from './manifests.js';
import { HUB_ENV_KEYS } from './sources.js';

const CHART = 'deploy/helm/hapi-hub';
const PROD_VALUES = `${CHART}/ci/prod-values.yaml`;
const GATEWAY_VALUES = `${CHART}/ci/gateway-values.yaml`;

async function helm(args: string[]) {
  const { helm: bin } = await ensureK8sTools();
  return runTool(bin, args);
}

async function template(release: string, ...args: string[]): Promise<K8sObject[]> {
  const result = await helm(['template', release, CHART, '--namespace', 'hapi', ...args]);
  if (result.status !== 0) throw new Error(`helm template ${args.join(' ')} failed: ${result.stderr}`);
  return parseManifests(result.stdout);
}

describe('helm lint', () => {
  it.each([
    ['default values', []],
    ['prod-like values', ['-f', PROD_VALUES]],
    ['gateway values', ['-f', GATEWAY_VALUES]],
  ])('passes --strict with %s', async (_label, args) => {
    const result = await helm(['lint', CHART, '--strict', ...args]);
    expect(result.stderr + result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.status).toBe(0);
  }, 120_000);
});

describe('helm template (default values)', () => {
  hubManifestInvariants(() => template('hapi'), {
    replicas: 2,
    workers: 1,
    redis: 'internal',
    ingress: true,
    gateway: false,
    secretRendered: true,
    secretRef: 'optional',
    drainTimeoutMs: 20_000,
  });

  it('creates a Secret without values, so the hub generates the token and JWT secret', async () => {
    const secret = onlyOne(await template('hapi'), 'Secret');
    expect(secretEntries(secret)).toEqual({});
  });
});

describe('helm template (ci/prod-values.yaml)', () => {
  hubManifestInvariants(() => template('hapi', '-f', PROD_VALUES), {
    replicas: 'hpa',
    workers: 2,
    redis: 'external',
    ingress: true,
    gateway: false,
    secretRendered: false,
    secretRef: 'required',
    drainTimeoutMs: 25_000,
  });

  it('uses the existing Secret, TLS, zone spread, extraEnv, and derives the grace period from the drain', async () => {
    const objects = await template('hapi', '-f', PROD_VALUES);
    const deployment = onlyOne(objects, 'Deployment');
    const pod = deployment.spec.template.spec;
    expect(pod.containers[0].envFrom.at(-1).secretRef).toEqual({ name: 'hapi-hub-secrets', optional: false });
    // preStop 5 + ceil(25000 / 1000) + 10
    expect(pod.terminationGracePeriodSeconds).toBe(40);
    expect(pod.topologySpreadConstraints.map((c: any) => c.topologyKey)).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    const ingress = onlyOne(objects, 'Ingress');
    expect(ingress.spec.tls).toEqual([{ secretName: 'hapi-hub-tls', hosts: ['hapi.example.com'] }]);
    // User annotations are added to the chart's, not instead of them.
    expect(ingress.metadata.annotations).toMatchObject({ 'cert-manager.io/cluster-issuer': 'letsencrypt', 'nginx.ingress.kubernetes.io/affinity': 'cookie' });
    const configMap = onlyOne(objects, 'ConfigMap');
    expect(configMap.data.HAPI_MESSAGE_HISTORY_LIMIT).toBe('5000');
    expect(configMap.data.REDIS_URL).toMatch(/^redis\+sentinel:\/\//);
    expect(pod.containers[0].image).toBe('registry.example.com/hapi-hub-cluster:0.1.0');
  });
});

describe('helm template (ci/gateway-values.yaml)', () => {
  hubManifestInvariants(() => template('hapi', '-f', GATEWAY_VALUES), {
    replicas: 2,
    workers: 2,
    redis: 'external',
    ingress: false,
    gateway: true,
    secretRendered: true,
    secretRef: 'optional',
    drainTimeoutMs: 20_000,
  });

  it('keeps the Redis URL and the token in the chart Secret, not the ConfigMap', async () => {
    const objects = await template('hapi', '-f', GATEWAY_VALUES);
    expect(onlyOne(objects, 'ConfigMap').data.REDIS_URL).toBeUndefined();
    expect(secretEntries(onlyOne(objects, 'Secret'))).toEqual({
      CLI_API_TOKEN: 'example-token-not-a-secret',
      REDIS_URL: 'redis+cluster://redis-0.redis:6379,redis-1.redis:6379,redis-2.redis:6379',
    });
    expect(onlyOne(objects, 'HTTPRoute').spec.parentRefs).toEqual([{ name: 'public-gateway', namespace: 'gateway-system' }]);
  });
});

describe('helm values', () => {
  it('values.schema.json allows exactly the hub variables in hub.extraEnv', () => {
    const schema = JSON.parse(readFileSync(join(REPO_ROOT, CHART, 'values.schema.json'), 'utf8'));
    expect([...schema.properties.hub.properties.extraEnv.propertyNames.enum].sort()).toEqual([...HUB_ENV_KEYS].sort());
  });

  it('refuses a release without Redis, naming the ways to give it one', async () => {
    const result = await helm(['template', 'hapi', CHART, '--set', 'redis.internal.enabled=false']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('hapi-hub: Redis is required');
  });

  it("refuses `io` as the LB cookie (Socket.IO's own) and unknown hub variables", async () => {
    const cookie = await helm(['template', 'hapi', CHART, '--set', 'affinityCookieName=io']);
    expect(cookie.status).not.toBe(0);
    expect(cookie.stderr).toContain('/affinityCookieName');
    const env = await helm(['template', 'hapi', CHART, '--set', 'hub.extraEnv.HAPI_TYPO_MS=1']);
    expect(env.status).not.toBe(0);
    expect(env.stderr).toContain("invalid propertyName 'HAPI_TYPO_MS'");
  });

  it('renders a configuration change into the pod template (pods roll)', async () => {
    const before = onlyOne(await template('hapi'), 'Deployment').spec.template.metadata.annotations['checksum/config'];
    const after = onlyOne(await template('hapi', '--set', 'hub.logLevel=debug'), 'Deployment').spec.template.metadata.annotations['checksum/config'];
    expect(after).not.toBe(before);
  });

  it('without autoscaling has no HPA; with it the Deployment leaves replicas to the HPA', async () => {
    expect(ofKind(await template('hapi'), 'HorizontalPodAutoscaler')).toEqual([]);
    const objects = await template('hapi', '--set', 'autoscaling.enabled=true');
    expect(onlyOne(objects, 'HorizontalPodAutoscaler').spec).toMatchObject({ minReplicas: 3, maxReplicas: 12 });
    expect(onlyOne(objects, 'Deployment').spec.replicas).toBeUndefined();
  });
});

describe('helm NOTES.txt', () => {
  async function notes(...args: string[]): Promise<string> {
    // --dry-run=client renders NOTES without a cluster; KUBECONFIG points nowhere on purpose.
    const { helm: bin } = await ensureK8sTools();
    const result = runTool(bin, ['install', 'hapi', CHART, '--namespace', 'hapi', '--dry-run=client', '--kubeconfig', join(REPO_ROOT, '.cache', 'no-kubeconfig'), ...args]);
    expect(result.status, result.stderr).toBe(0);
    return result.stdout.slice(result.stdout.indexOf('NOTES:'));
  }

  it('tells the URL and how to find the generated CLI token by default', async () => {
    const text = await notes();
    expect(text).toContain('http://hapi.local/');
    expect(text).toContain('kubectl -n hapi logs -l app.kubernetes.io/instance=hapi,app.kubernetes.io/component=hub --tail=-1 | grep CLI_API_TOKEN');
    expect(text).toContain('kubectl -n hapi exec deploy/hapi-hapi-hub -- node dist/main.js ns create <namespace>');
  });

  it('with TLS and an existing Secret: https URL and the Secret to read the token from', async () => {
    const text = await notes('-f', PROD_VALUES);
    expect(text).toContain('https://hapi.example.com/');
    expect(text).toContain("kubectl -n hapi get secret hapi-hub-secrets -o jsonpath='{.data.CLI_API_TOKEN}' | base64 -d");
  });
});
