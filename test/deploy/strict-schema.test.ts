// strict-schema.ts catches what an API server with strict field validation would reject and
// kubernetes-models' validators let through: each mutation of a rendered object is one error,
// located by its path. The unmutated rendering is clean.
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureK8sTools, runTool } from './k8s-tools.js';
import { onlyOne, parseManifests, schemaErrors, type K8sObject } from './manifests.js';
import { strictSchemaErrors } from './strict-schema.js';

async function render(): Promise<K8sObject[]> {
  const { helm } = await ensureK8sTools();
  const result = runTool(helm, [
    'template',
    'hapi',
    'deploy/helm/hapi-hub',
    '--set',
    'gateway.enabled=true',
    '--set',
    'autoscaling.enabled=true',
  ]);
  if (result.status !== 0) throw new Error(result.stderr);
  return parseManifests(result.stdout);
}

type Mutation = [description: string, kind: string, mutate: (o: any) => void, expected: string];

const MUTATIONS: Mutation[] = [
  [
    'probe field typo',
    'Deployment',
    (d) => (d.spec.template.spec.containers[0].readinessProbe.periodSecond = 5),
    'spec.template.spec.containers[0].readinessProbe.periodSecond: Object literal may only specify known properties',
  ],
  [
    'metadata typo',
    'Service',
    (s) => (s.metadata.lables = { a: 'b' }),
    'metadata.lables: Object literal may only specify known properties',
  ],
  [
    'resources typo',
    'Deployment',
    (d) => (d.spec.template.spec.containers[0].resources.limit = { memory: '1Gi' }),
    'spec.template.spec.containers[0].resources.limit: Object literal may only specify known properties',
  ],
  [
    'nested backend typo',
    'Ingress',
    (i) => (i.spec.rules[0].http.paths[0].backend.service.port.nmae = 'http'),
    'spec.rules[0].http.paths[0].backend.service.port.nmae: Object literal may only specify known properties',
  ],
  [
    'Gateway API field typo',
    'HTTPRoute',
    (r) => (r.spec.rules[0].timeouts.requets = '0s'),
    'spec.rules[0].timeouts.requets: Object literal may only specify known properties',
  ],
  [
    'PDB field typo',
    'PodDisruptionBudget',
    (p) => (p.spec.maxUnavilable = 1),
    'spec.maxUnavilable: Object literal may only specify known properties',
  ],
  [
    'HPA behavior typo',
    'HorizontalPodAutoscaler',
    (h) => (h.spec.behavior.scaleDown.stabilizationWindowSecond = 300),
    'spec.behavior.scaleDown.stabilizationWindowSecond: Object literal may only specify known properties',
  ],
  [
    'StatefulSet claim typo',
    'StatefulSet',
    (s) => (s.spec.volumeClaimTemplates[0].spec.accesModes = ['ReadWriteOnce']),
    'spec.volumeClaimTemplates[0].spec.accesModes: Object literal may only specify known properties',
  ],
  [
    'test Pod typo',
    'Pod',
    (p) => (p.spec.restartPolicyy = 'Never'),
    'spec.restartPolicyy: Object literal may only specify known properties',
  ],
  [
    'string for an integer',
    'Deployment',
    (d) => (d.spec.revisionHistoryLimit = '5'),
    "spec.revisionHistoryLimit: Type 'string' is not assignable to type 'number'",
  ],
  [
    'enum value outside the set',
    'Service',
    (s) => (s.spec.type = 'Loadbalancer'),
    "spec.type: Type 'Loadbalancer' is not assignable to type",
  ],
  ['missing required field', 'Deployment', (d) => delete d.spec.selector, "spec: Property 'selector' is missing"],
  [
    'invalid object name',
    'ConfigMap',
    (c) => (c.metadata.name = 'Hapi_Hub'),
    'metadata.name: not a valid DNS-1123 subdomain',
  ],
  [
    'label value too long',
    'Service',
    (s) => (s.metadata.labels.extra = 'x'.repeat(64)),
    'metadata.labels.extra: invalid label value',
  ],
  [
    'port name too long',
    'Deployment',
    (d) => (d.spec.template.spec.containers[0].ports[0].name = 'http-for-the-hub-api'),
    'port name "http-for-the-hub-api" is not an IANA service name',
  ],
];

describe('strict schema check', () => {
  let rendered: K8sObject[];
  beforeAll(async () => {
    rendered = await render();
  }, 300_000);
  /** A copy of the one object of `kind` (the hub's Service, not Redis's). */
  const pick = (kind: string) =>
    structuredClone(onlyOne(rendered, kind, (o) => kind === 'StatefulSet' || !o.metadata.name.endsWith('-redis')));

  it('the rendering is clean (kubernetes-models and strict)', () => {
    const objects = rendered;
    expect(schemaErrors(objects)).toEqual([]);
    expect(strictSchemaErrors(objects)).toEqual([]);
  }, 120_000);

  it.each(MUTATIONS)('catches: %s', (_description, kind, mutate, expected) => {
    const object = pick(kind);
    mutate(object);
    const errors = strictSchemaErrors([object]);
    expect(errors, errors.join('\n')).toHaveLength(1);
    expect(errors[0]).toContain(`${kind}/${object.metadata.name}: `);
    expect(errors[0], errors[0]).toContain(expected);
  });

  it('kubernetes-models alone lets the unknown fields through (why the strict check exists)', () => {
    const object = pick('Deployment');
    object.spec.template.spec.containers[0].readinessProbe.periodSecond = 5;
    expect(schemaErrors([object])).toEqual([]);
  });

  it('an object of a kind it has no type for is an error, not a pass', () => {
    expect(strictSchemaErrors([{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }])).toEqual([
      expect.stringContaining('no strict schema for this kind'),
    ]);
  });
});
