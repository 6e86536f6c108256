// Strict schema check of rendered objects: every field must exist in the Kubernetes API schema
// for its kind, as an API server with `fieldValidation=Strict` (kubectl's default) would insist.
//
// kubernetes-models' runtime validators (manifests.ts schemaErrors) check types, formats and
// required fields but accept unknown fields — a typo such as `periodSecond` passes. The same
// packages ship TypeScript interfaces generated from the same OpenAPI schemas (core) and CRD
// schemas (Gateway API); each property list there is closed. So every object is written as a
// typed object literal into an in-memory TypeScript file and type-checked: an unknown field is an
// excess-property error, a wrong type or a missing required field a type error, at any depth.
// Diagnostics are mapped back to "Kind/name: path: message".
import { join } from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from './k8s-tools.js';
import type { K8sObject } from './manifests.js';

/** apiVersion/kind → module and interface of its generated type. */
const TYPES: Record<string, { module: string; name: string }> = {
  'v1/ConfigMap': { module: 'kubernetes-models/v1/ConfigMap', name: 'IConfigMap' },
  'v1/Namespace': { module: 'kubernetes-models/v1/Namespace', name: 'INamespace' },
  'v1/Pod': { module: 'kubernetes-models/v1/Pod', name: 'IPod' },
  'v1/Secret': { module: 'kubernetes-models/v1/Secret', name: 'ISecret' },
  'v1/Service': { module: 'kubernetes-models/v1/Service', name: 'IService' },
  'v1/ServiceAccount': { module: 'kubernetes-models/v1/ServiceAccount', name: 'IServiceAccount' },
  'apps/v1/Deployment': { module: 'kubernetes-models/apps/v1/Deployment', name: 'IDeployment' },
  'apps/v1/StatefulSet': { module: 'kubernetes-models/apps/v1/StatefulSet', name: 'IStatefulSet' },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    name: 'IHorizontalPodAutoscaler',
  },
  'networking.k8s.io/v1/Ingress': { module: 'kubernetes-models/networking.k8s.io/v1/Ingress', name: 'IIngress' },
  'networking.k8s.io/v1/NetworkPolicy': {
    module: 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
    name: 'INetworkPolicy',
  },
  'policy/v1/PodDisruptionBudget': {
    module: 'kubernetes-models/policy/v1/PodDisruptionBudget',
    name: 'IPodDisruptionBudget',
  },
  'gateway.networking.k8s.io/v1/HTTPRoute': {
    module: '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute',
    name: 'IHTTPRoute',
  },
};

/** Kinds the strict check knows (an object of any other kind is reported as an error). */
export const STRICT_KINDS: readonly string[] = Object.keys(TYPES);

// A virtual file inside test/deploy so module resolution finds the repository's node_modules.
const VIRTUAL_FILE = join(REPO_ROOT, 'test', 'deploy', '__strict_schema_check__.ts');

const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2023,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: [],
  lib: ['lib.es2023.d.ts'],
};

let previousProgram: ts.Program | undefined;

function sourceFor(objects: K8sObject[]): string {
  const lines: string[] = [];
  const imported = new Set<string>();
  for (const object of objects) {
    const type = TYPES[`${object.apiVersion}/${object.kind}`];
    if (type && !imported.has(type.name)) {
      imported.add(type.name);
      lines.push(`import type { ${type.name} } from ${JSON.stringify(type.module)};`);
    }
  }
  objects.forEach((object, index) => {
    const type = TYPES[`${object.apiVersion}/${object.kind}`];
    if (type) lines.push(`export const object${index}: ${type.name} = ${JSON.stringify(object, null, 1)};`);
  });
  return `${lines.join('\n')}\n`;
}

/** "spec.template.spec.containers[0].readinessProbe" for the literal node holding a diagnostic. */
function pathOf(node: ts.Node): { index: number; path: string } | undefined {
  const parts: string[] = [];
  let current: ts.Node | undefined = node;
  while (current) {
    const parent: ts.Node | undefined = current.parent;
    if (parent && ts.isPropertyAssignment(parent) && parent.name === current) {
      // The diagnostic sits on a property name: that name is the last path element.
    } else if (ts.isPropertyAssignment(current)) {
      parts.unshift(ts.isStringLiteral(current.name) ? current.name.text : current.name.getText());
    } else if (parent && ts.isArrayLiteralExpression(parent)) {
      parts.unshift(`[${parent.elements.indexOf(current as ts.Expression)}]`);
    } else if (ts.isVariableDeclaration(current)) {
      const match = /^object(\d+)$/.exec(current.name.getText());
      if (!match) return undefined;
      return { index: Number(match[1]), path: parts.join('.').replace(/\.\[/g, '[') };
    }
    current = parent;
  }
  return undefined;
}

function nodeAt(sourceFile: ts.SourceFile, position: number): ts.Node {
  let found: ts.Node = sourceFile;
  const visit = (node: ts.Node): void => {
    if (position >= node.getStart(sourceFile) && position < node.getEnd()) {
      found = node;
      ts.forEachChild(node, visit);
    }
  };
  ts.forEachChild(sourceFile, visit);
  return found;
}

// Name rules the API server applies beyond the OpenAPI schema (apimachinery validation).
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function nameErrors(object: K8sObject): string[] {
  const errors: string[] = [];
  const where = `${object.kind}/${object.metadata?.name}`;
  const name = object.metadata?.name ?? '';
  // Services become DNS labels; everything else here is a DNS subdomain.
  if (
    object.kind === 'Service'
      ? !(DNS1035_LABEL.test(name) && name.length <= 63)
      : !(DNS1123_SUBDOMAIN.test(name) && name.length <= 253)
  )
    errors.push(
      `${where}: metadata.name: not a valid ${object.kind === 'Service' ? 'DNS-1035 label' : 'DNS-1123 subdomain'}`,
    );
  const labelMaps: [string, Record<string, string> | undefined][] = [
    ['metadata.labels', object.metadata?.labels],
    ['spec.template.metadata.labels', object.spec?.template?.metadata?.labels],
  ];
  for (const [path, labels] of labelMaps) {
    for (const [key, value] of Object.entries(labels ?? {})) {
      const [prefix, label] = key.includes('/') ? key.split('/', 2) : [undefined, key];
      if (
        (prefix !== undefined && !(DNS1123_SUBDOMAIN.test(prefix) && prefix.length <= 253)) ||
        !LABEL_NAME.test(label!) ||
        label!.length > 63
      )
        errors.push(`${where}: ${path}: invalid label key ${JSON.stringify(key)}`);
      if (typeof value !== 'string' || !LABEL_VALUE.test(value) || value.length > 63)
        errors.push(`${where}: ${path}.${key}: invalid label value ${JSON.stringify(value)}`);
    }
  }
  const podSpec = object.kind === 'Pod' ? object.spec : object.spec?.template?.spec;
  for (const [index, container] of (
    [...(podSpec?.initContainers ?? []), ...(podSpec?.containers ?? [])] as any[]
  ).entries()) {
    if (!(DNS1123_LABEL.test(container.name ?? '') && container.name.length <= 63))
      errors.push(`${where}: container ${index}: name ${JSON.stringify(container.name)} is not a DNS-1123 label`);
    for (const port of (container.ports ?? []) as any[]) {
      if (port.name !== undefined && !(PORT_NAME.test(port.name) && port.name.length <= 15 && /[a-z]/.test(port.name)))
        errors.push(
          `${where}: container ${container.name}: port name ${JSON.stringify(port.name)} is not an IANA service name`,
        );
    }
  }
  return errors;
}

/**
 * Unknown fields, wrong types and missing required fields of every object, and the name rules
 * the API server adds (object names, label keys and values, container and port names):
 * "Kind/name: path: message".
 */
export function strictSchemaErrors(objects: K8sObject[]): string[] {
  const errors: string[] = objects.flatMap(nameErrors);
  for (const object of objects) {
    if (!TYPES[`${object.apiVersion}/${object.kind}`])
      errors.push(
        `${object.apiVersion}/${object.kind}/${object.metadata?.name}: no strict schema for this kind (add it to TYPES in test/deploy/strict-schema.ts)`,
      );
  }
  const text = sourceFor(objects);
  const host = ts.createCompilerHost(COMPILER_OPTIONS, true);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (fileName) => (fileName === VIRTUAL_FILE ? text : readFile(fileName));
  host.fileExists = (
    (fileExists) => (fileName: string) =>
      fileName === VIRTUAL_FILE || fileExists(fileName)
  )(host.fileExists.bind(host));
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) =>
    fileName === VIRTUAL_FILE
      ? ts.createSourceFile(fileName, text, languageVersion, true)
      : getSourceFile(fileName, languageVersion, onError, shouldCreate);
  // Reusing the previous program keeps the parsed .d.ts files of node_modules between calls.
  const program = ts.createProgram([VIRTUAL_FILE], COMPILER_OPTIONS, host, previousProgram);
  previousProgram = program;
  const sourceFile = program.getSourceFile(VIRTUAL_FILE)!;
  const diagnostics = [...program.getSyntacticDiagnostics(sourceFile), ...program.getSemanticDiagnostics(sourceFile)];
  for (const diagnostic of diagnostics) {
    // Property names are string literals in the generated file: '"selector"' reads as 'selector'.
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ').replace(/'"([^"']+)"'/g, "'$1'");
    const located = diagnostic.start === undefined ? undefined : pathOf(nodeAt(sourceFile, diagnostic.start));
    if (!located) {
      errors.push(`(unlocated) ${message}`);
      continue;
    }
    const object = objects[located.index]!;
    errors.push(`${object.kind}/${object.metadata?.name}: ${located.path || '(root)'}: ${message}`);
  }
  return errors;
}
