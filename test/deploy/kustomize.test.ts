// k8s/: `kubectl kustomize` of both overlays and of every component (ingress-nginx, Gateway API
// standard and experimental, OpenShift), every object schema-validated (strictly) and checked
// against the hub (hub-invariants.ts), plus the generated ConfigMap and the Secret template.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hubManifestInvariants } from './hub-invariants.js';
import { ensureK8sTools, REPO_ROOT, runTool } from './k8s-tools.js';
import { IMAGE_NAME_AND_TAG } from './image.js';
import { onlyOne, parseManifests, readManifestFile, schemaErrors, secretEntries, type K8sObject } from './manifests.js';
import { HUB_ENV_KEYS } from './sources.js';
import { strictSchemaErrors } from './strict-schema.js';

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

/** A throwaway overlay in namespace hapi-dev on top of `base` (components are meant to be added to an overlay). */
function overlay(base: string, components: string[], extra: string[] = []): string {
  // Inside the repository (.cache/ is ignored): kustomize refuses absolute resource paths.
  mkdirSync(join(REPO_ROOT, '.cache'), { recursive: true });
  const dir = mkdtempSync(join(REPO_ROOT, '.cache', 'kustomize-overlay-'));
  tempDirs.push(dir);
  const fromDir = (path: string) => relative(dir, join(REPO_ROOT, path));
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'namespace: hapi-dev',
      'resources:',
      `  - ${fromDir(base)}`,
      ...(components.length > 0 ? ['components:', ...components.map((c) => `  - ${fromDir(c)}`)] : []),
      ...extra,
      '',
    ].join('\n'),
  );
  return dir;
}

describe('k8s/overlays/dev', () => {
  hubManifestInvariants(() => kustomize('k8s/overlays/dev'), {
    namespace: 'hapi-dev',
    replicas: 2,
    workers: 1,
    redis: 'internal',
    ingress: 'none',
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
    workers: 1,
    redis: 'external',
    ingress: 'ingress-nginx',
    gateway: false,
    secretRendered: false,
    secretRef: 'required',
    drainTimeoutMs: 20_000,
  });

  it('terminates TLS at ingress-nginx and points REDIS_URL at Sentinel', async () => {
    const objects = await kustomize('k8s/overlays/prod');
    const ingress = onlyOne(objects, 'Ingress');
    expect(ingress.spec.tls).toEqual([{ hosts: ['hapi.example.com'], secretName: 'hapi-hub-tls' }]);
    expect(ingress.spec.rules.map((r: any) => r.host)).toEqual(['hapi.example.com']);
    expect(onlyOne(objects, 'ConfigMap').data.REDIS_URL).toMatch(/^redis\+sentinel:\/\/[^/]+\/mymaster$/);
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.metadata.annotations?.['nginx.ingress.kubernetes.io/ssl-redirect']).toBe('true');
    expect(onlyOne(objects, 'Deployment').spec.template.spec.containers[0].image).toBe(
      `ghcr.io/example-org/${IMAGE_NAME_AND_TAG}`,
    );
  });
});

describe('k8s with components/gateway-api (standard channel)', () => {
  hubManifestInvariants(() => kustomize(overlay('k8s/overlays/dev', ['k8s/components/gateway-api'])), {
    namespace: 'hapi-dev',
    replicas: 2,
    workers: 1,
    redis: 'internal',
    ingress: false,
    gateway: 'standard',
    secretRendered: false,
    secretRef: 'optional',
    drainTimeoutMs: 20_000,
  });
});

describe('k8s with components/gateway-api + gateway-api-session-persistence (experimental channel)', () => {
  hubManifestInvariants(
    () =>
      kustomize(
        overlay('k8s/overlays/dev', ['k8s/components/gateway-api', 'k8s/components/gateway-api-session-persistence']),
      ),
    {
      namespace: 'hapi-dev',
      replicas: 2,
      workers: 1,
      redis: 'internal',
      ingress: false,
      gateway: 'experimental',
      secretRendered: false,
      secretRef: 'optional',
      drainTimeoutMs: 20_000,
    },
  );
});

describe('k8s with components/openshift (restricted-v2: no fixed UID/GID)', () => {
  hubManifestInvariants(() => kustomize(overlay('k8s/overlays/dev', ['k8s/components/openshift'])), {
    namespace: 'hapi-dev',
    replicas: 2,
    workers: 1,
    redis: 'internal',
    ingress: 'none',
    gateway: false,
    secretRendered: false,
    secretRef: 'optional',
    drainTimeoutMs: 20_000,
    fixedUid: false,
  });
});

describe('k8s ConfigMap (configMapGenerator)', () => {
  it('a configuration change renames the ConfigMap and the Deployment follows (pods roll)', async () => {
    const dev = await kustomize('k8s/overlays/dev');
    const changed = await kustomize(
      overlay(
        'k8s/overlays/dev',
        [],
        [
          'configMapGenerator:',
          '  - name: hapi-hub-config',
          '    namespace: hapi-dev',
          '    behavior: merge',
          '    literals:',
          '      - LOG_LEVEL=warn',
        ],
      ),
    );
    const name = (objects: K8sObject[]) => onlyOne(objects, 'ConfigMap').metadata.name;
    const referenced = (objects: K8sObject[]) =>
      onlyOne(objects, 'Deployment').spec.template.spec.containers[0].envFrom[0].configMapRef.name;
    expect(name(dev)).toMatch(/^hapi-hub-config-[a-z0-9]{10}$/);
    expect(name(changed)).not.toBe(name(dev));
    expect(referenced(dev)).toBe(name(dev));
    expect(referenced(changed)).toBe(name(changed));
    expect(onlyOne(changed, 'ConfigMap').data.LOG_LEVEL).toBe('warn');
  });

  it('base, dev and prod set HAPI_WORKERS=1 explicitly', async () => {
    for (const dir of ['k8s/base', 'k8s/overlays/dev', 'k8s/overlays/prod'])
      expect(onlyOne(await kustomize(dir), 'ConfigMap').data.HAPI_WORKERS, dir).toBe('1');
  });
});

describe('k8s/base/secret.template.yaml', () => {
  const [secret] = readManifestFile('k8s/base/secret.template.yaml');

  it('is a valid Secret named as the Deployment expects, with hub variables and no values', async () => {
    expect(schemaErrors([secret!])).toEqual([]);
    expect(strictSchemaErrors([secret!])).toEqual([]);
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
