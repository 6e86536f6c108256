// k8s/: `kubectl kustomize` of both overlays (and of the Gateway API component), every object
// schema-validated and checked against the hub (hub-invariants.ts), plus the Secret template.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hubManifestInvariants } from './hub-invariants.js';
import { ensureK8sTools, REPO_ROOT, runTool } from './k8s-tools.js';
import { onlyOne, parseManifests, readManifestFile, schemaErrors, secretEntries, type K8sObject } from './manifests.js';
import { HUB_ENV_KEYS } from './sources.js';

async function kustomize(dir: string): Promise<K8sObject[]> {
  const { kubectl } = await ensureK8sTools();
  const result = runTool(kubectl, ['kustomize', dir]);
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${result.stderr}`);
  return parseManifests(result.stdout);
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('k8s/overlays/dev', () => {
  hubManifestInvariants(() => kustomize('k8s/overlays/dev'), {
    namespace: 'hapi-dev',
    replicas: 2,
    workers: 1,
    redis: 'internal',
    ingress: true,
    gateway: false,
    secretRendered: false,
    secretRef: 'optional',
    drainTimeoutMs: 20_000,
  });
});

describe('k8s/overlays/prod', () => {
  hubManifestInvariants(() => kustomize('k8s/overlays/prod'), {
    namespace: 'hapi',
    replicas: 'hpa',
    workers: 2,
    redis: 'external',
    ingress: true,
    gateway: false,
    secretRendered: false,
    secretRef: 'optional',
    drainTimeoutMs: 20_000,
  });

  it('terminates TLS at the Ingress and points REDIS_URL at Sentinel', async () => {
    const objects = await kustomize('k8s/overlays/prod');
    const ingress = onlyOne(objects, 'Ingress');
    expect(ingress.spec.tls).toEqual([{ hosts: ['hapi.example.com'], secretName: 'hapi-hub-tls' }]);
    expect(ingress.spec.rules.map((r: any) => r.host)).toEqual(['hapi.example.com']);
    expect(onlyOne(objects, 'ConfigMap').data.REDIS_URL).toMatch(/^redis\+sentinel:\/\/[^/]+\/mymaster$/);
    expect(onlyOne(objects, 'Deployment').spec.template.spec.containers[0].image).toBe('registry.example.com/hapi-hub-cluster:0.1.0');
  });
});

describe('k8s with components/gateway-api', () => {
  // A throwaway overlay: the component is meant to be added to an overlay's `components:`.
  hubManifestInvariants(
    () => {
      // Inside the repository (.cache/ is ignored): kustomize refuses absolute resource paths.
      mkdirSync(join(REPO_ROOT, '.cache'), { recursive: true });
      const dir = mkdtempSync(join(REPO_ROOT, '.cache', 'kustomize-gateway-'));
      tempDirs.push(dir);
      const fromDir = (path: string) => relative(dir, join(REPO_ROOT, path));
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        ['apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization', 'namespace: hapi-dev', 'resources:', `  - ${fromDir('k8s/overlays/dev')}`, 'components:', `  - ${fromDir('k8s/components/gateway-api')}`, ''].join('\n'),
      );
      return kustomize(dir);
    },
    { namespace: 'hapi-dev', replicas: 2, workers: 1, redis: 'internal', ingress: false, gateway: true, secretRendered: false, secretRef: 'optional', drainTimeoutMs: 20_000 },
  );
});

describe('k8s/base/secret.template.yaml', () => {
  const [secret] = readManifestFile('k8s/base/secret.template.yaml');

  it('is a valid Secret named as the Deployment expects, with hub variables and no values', async () => {
    expect(schemaErrors([secret!])).toEqual([]);
    const deployment = onlyOne(await kustomize('k8s/base'), 'Deployment');
    const secretRef = deployment.spec.template.spec.containers[0].envFrom.find((e: any) => e.secretRef).secretRef;
    expect(secret!.metadata.name).toBe(secretRef.name);
    const entries = secretEntries(secret!);
    expect(Object.keys(entries).sort()).toEqual(['CLI_API_TOKEN', 'HAPI_JWT_SECRET']);
    for (const key of Object.keys(entries)) expect(HUB_ENV_KEYS).toContain(key);
    // A template: nothing real committed.
    expect(Object.values(entries)).toEqual(['', '']);
  });

  it('is not applied by the base (it would overwrite the real Secret)', async () => {
    const objects = await kustomize('k8s/base');
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
  });
});
