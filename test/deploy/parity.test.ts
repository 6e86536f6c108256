// The chart and the kustomize manifests are two spellings of one deployment: rendered with the
// same choices (the chart with fullnameOverride=hapi-hub, so names match), every object's spec is
// the same once names, labels and selectors (which differ by design: Helm adds the release) are
// set aside. A setting changed in one and not the other fails here.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureK8sTools, REPO_ROOT, runTool } from './k8s-tools.js';
import { onlyOne, parseManifests, type K8sObject } from './manifests.js';

const CHART = 'deploy/helm/hapi-hub';

async function helmTemplate(...args: string[]): Promise<K8sObject[]> {
  const { helm } = await ensureK8sTools();
  const result = runTool(helm, ['template', 'hapi-hub', CHART, '--set', 'fullnameOverride=hapi-hub', ...args]);
  if (result.status !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return parseManifests(result.stdout);
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

async function kustomize(base: string, components: string[] = []): Promise<K8sObject[]> {
  let dir = base;
  if (components.length > 0) {
    mkdirSync(join(REPO_ROOT, '.cache'), { recursive: true });
    dir = mkdtempSync(join(REPO_ROOT, '.cache', 'kustomize-parity-'));
    tempDirs.push(dir);
    const fromDir = (path: string) => relative(dir, join(REPO_ROOT, path));
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'resources:',
        `  - ${fromDir(base)}`,
        'components:',
        ...components.map((c) => `  - ${fromDir(c)}`),
        '',
      ].join('\n'),
    );
  }
  const { kubectl } = await ensureK8sTools();
  const result = runTool(kubectl, ['kustomize', dir]);
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${result.stderr}`);
  return parseManifests(result.stdout);
}

/** The spec with selectors/labels and the names of the ConfigMap and Secrets (hash suffix, release prefix) set aside. */
function comparable(value: unknown, key = ''): unknown {
  if (['matchLabels', 'labels'].includes(key)) return '<labels>';
  if (key === 'selector' && value !== null && typeof value === 'object' && !('matchLabels' in value)) return '<labels>';
  if (['configMapRef', 'secretRef', 'secretKeyRef'].includes(key)) return { ...(value as object), name: '<name>' };
  if (Array.isArray(value)) return value.map((item) => comparable(item));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, comparable(v, k)]));
  return value;
}

const spec = (objects: K8sObject[], kind: string, name?: string) =>
  comparable(onlyOne(objects, kind, (o) => name === undefined || o.metadata.name === name).spec);
const podSpec = (objects: K8sObject[], kind: string) => comparable((onlyOne(objects, kind).spec as any).template.spec);

describe('chart defaults = kustomize base (+ dev Redis)', () => {
  it('Deployment pod spec, strategy and history', async () => {
    const chart = await helmTemplate('--set', 'ingress.host=hapi.example.com');
    const base = await kustomize('k8s/base');
    expect(podSpec(chart, 'Deployment')).toEqual(podSpec(base, 'Deployment'));
    const { template: _c, ...chartRest } = onlyOne(chart, 'Deployment').spec;
    const { template: _b, ...baseRest } = onlyOne(base, 'Deployment').spec;
    expect(comparable(chartRest)).toEqual(comparable(baseRest));
  });

  it('ConfigMap data (the public URL aside), Service, PDB, ServiceAccount, neutral Ingress', async () => {
    const chart = await helmTemplate(
      '--set',
      'ingress.host=hapi.example.com',
      '--set',
      'hub.publicUrl=https://hapi.example.com',
    );
    const base = await kustomize('k8s/base');
    expect(onlyOne(chart, 'ConfigMap').data).toEqual(onlyOne(base, 'ConfigMap').data);
    expect(spec(chart, 'Service', 'hapi-hub')).toEqual(spec(base, 'Service'));
    expect(spec(chart, 'PodDisruptionBudget')).toEqual(spec(base, 'PodDisruptionBudget'));
    expect(onlyOne(chart, 'ServiceAccount').automountServiceAccountToken).toBe(
      onlyOne(base, 'ServiceAccount').automountServiceAccountToken,
    );
    expect(spec(chart, 'Ingress')).toEqual(spec(base, 'Ingress'));
    expect(onlyOne(chart, 'Ingress').metadata.annotations).toEqual(onlyOne(base, 'Ingress').metadata.annotations);
  });

  it('Redis StatefulSet, Service, NetworkPolicy and password Secret = overlays/dev', async () => {
    const chart = await helmTemplate();
    const dev = await kustomize('k8s/overlays/dev');
    expect(spec(chart, 'StatefulSet')).toEqual(spec(dev, 'StatefulSet'));
    expect(spec(chart, 'Service', 'hapi-hub-redis')).toEqual(spec(dev, 'Service', 'hapi-hub-redis'));
    expect(spec(chart, 'NetworkPolicy')).toEqual(spec(dev, 'NetworkPolicy'));
    // The password Secret: same key, a generated value in each.
    const keys = (objects: K8sObject[]) =>
      Object.keys(
        onlyOne(objects, 'Secret', (o) => o.metadata.name.startsWith('hapi-hub-redis')).data as Record<string, string>,
      );
    expect(keys(chart)).toEqual(['REDIS_PASSWORD']);
    expect(keys(dev)).toEqual(keys(chart));
  });
});

describe('chart options = kustomize components and overlays', () => {
  it('ingress.controllerPreset=ingress-nginx + className nginx = components/ingress-nginx', async () => {
    const chart = await helmTemplate(
      '--set',
      'ingress.host=hapi.example.com',
      '--set',
      'ingress.controllerPreset=ingress-nginx',
      '--set',
      'ingress.className=nginx',
    );
    const kustomized = await kustomize('k8s/base', ['k8s/components/ingress-nginx']);
    expect(spec(chart, 'Ingress')).toEqual(spec(kustomized, 'Ingress'));
    expect(onlyOne(chart, 'Ingress').metadata.annotations).toEqual(onlyOne(kustomized, 'Ingress').metadata.annotations);
  });

  it('gateway (standard) = components/gateway-api; + experimental.sessionPersistence = + gateway-api-session-persistence', async () => {
    const gateway = [
      '--set',
      'ingress.enabled=false',
      '--set',
      'gateway.enabled=true',
      '--set',
      'gateway.hostnames[0]=hapi.example.com',
    ];
    expect(spec(await helmTemplate(...gateway), 'HTTPRoute')).toEqual(
      spec(await kustomize('k8s/base', ['k8s/components/gateway-api']), 'HTTPRoute'),
    );
    expect(
      spec(await helmTemplate(...gateway, '--set', 'gateway.experimental.sessionPersistence=true'), 'HTTPRoute'),
    ).toEqual(
      spec(
        await kustomize('k8s/base', ['k8s/components/gateway-api', 'k8s/components/gateway-api-session-persistence']),
        'HTTPRoute',
      ),
    );
  });

  it('autoscaling = overlays/prod hpa.yaml', async () => {
    expect(spec(await helmTemplate('--set', 'autoscaling.enabled=true'), 'HorizontalPodAutoscaler')).toEqual(
      spec(await kustomize('k8s/overlays/prod'), 'HorizontalPodAutoscaler'),
    );
  });

  it('ci/openshift-values.yaml = components/openshift (pod security contexts)', async () => {
    const chart = await helmTemplate('-f', `${CHART}/ci/openshift-values.yaml`);
    const kustomized = await kustomize('k8s/overlays/dev', ['k8s/components/openshift']);
    for (const kind of ['Deployment', 'StatefulSet']) {
      expect((onlyOne(chart, kind).spec as any).template.spec.securityContext, kind).toEqual(
        (onlyOne(kustomized, kind).spec as any).template.spec.securityContext,
      );
    }
  });
});
