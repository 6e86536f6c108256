// Rendered Kubernetes manifests: YAML parsing, schema validation (kubernetes-models and the Gateway
// API models: the OpenAPI schemas of the API server, compiled — types, formats, required fields;
// unknown fields are strict-schema.ts's job), and the lookups the invariant suite needs. Shared
// by the kustomize and Helm tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { REPO_ROOT } from './k8s-tools.js';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: any;
}

/** Every apiVersion/kind the manifests may contain, with its schema-validating model. */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Pod': Pod,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'gateway.networking.k8s.io/v1/HTTPRoute': HTTPRoute,
};

export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`YAML error: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as K8sObject | null;
    if (value !== null && value !== undefined) objects.push(value);
  }
  return objects;
}

export function readManifestFile(relativePath: string): K8sObject[] {
  return parseManifests(readFileSync(join(REPO_ROOT, relativePath), 'utf8'));
}

/** Schema violations of every object ("Kind/name: message"); an unknown kind is one too. */
export function schemaErrors(objects: K8sObject[]): string[] {
  const errors: string[] = [];
  for (const object of objects) {
    const key = `${object.apiVersion}/${object.kind}`;
    const Model = MODELS[key];
    if (!Model) {
      errors.push(
        `${key}/${object.metadata?.name}: no schema for this kind (add it to MODELS in test/deploy/manifests.ts)`,
      );
      continue;
    }
    try {
      new Model(object).validate();
    } catch (error) {
      errors.push(`${object.kind}/${object.metadata?.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return errors;
}

export function ofKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function named(objects: K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

export function onlyOne(
  objects: K8sObject[],
  kind: string,
  predicate: (o: K8sObject) => boolean = () => true,
): K8sObject {
  const found = ofKind(objects, kind).filter(predicate);
  if (found.length !== 1)
    throw new Error(
      `expected exactly one ${kind}, found ${found.length}: ${found.map((o) => o.metadata.name).join(', ')}`,
    );
  return found[0]!;
}

/** matchLabels ⊆ labels. */
export function selects(
  matchLabels: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!matchLabels || Object.keys(matchLabels).length === 0) return false;
  return Object.entries(matchLabels).every(([key, value]) => labels?.[key] === value);
}

/** ingress-nginx size ("68m", "1g", "512k", "100") in bytes. */
export function nginxSizeBytes(size: string): number {
  const match = /^(\d+)([kKmMgG]?)$/.exec(size);
  if (!match) throw new Error(`not an nginx size: ${size}`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase()]!;
  return Number(match[1]) * unit;
}

/** Secret data (base64) and stringData, decoded. */
export function secretEntries(secret: K8sObject): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const [key, value] of Object.entries((secret.data ?? {}) as Record<string, string>))
    entries[key] = Buffer.from(value, 'base64').toString('utf8');
  for (const [key, value] of Object.entries((secret.stringData ?? {}) as Record<string, string>)) entries[key] = value;
  return entries;
}
