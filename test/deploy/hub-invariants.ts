// The checks every rendering of the hub's Kubernetes objects must pass, whether it comes from
// kustomize (k8s/) or Helm (deploy/helm/hapi-hub). Call inside a `describe`; `render` is called
// once, lazily, so rendering failures show up as test failures with the tool's message.
import { beforeAll, afterAll, expect, it } from 'vitest';
import { loadConfig, type HubConfig } from '../../src/config.js';
import {
  named,
  nginxSizeBytes,
  ofKind,
  onlyOne,
  schemaErrors,
  secretEntries,
  selects,
  type K8sObject,
} from './manifests.js';
import { IMAGE_NAME_AND_TAG } from './image.js';
import { dockerfileUid, HUB_ENV_KEYS, isKnownEnv, lbCookieName, startLiveHub, type LiveHub } from './sources.js';
import { strictSchemaErrors } from './strict-schema.js';

export interface HubExpectations {
  /** Namespace of every namespaced object (kustomize overlays set one; Helm leaves it to --namespace). */
  namespace?: string;
  /** 'hpa': an HPA owns the count and the Deployment has none. */
  replicas: number | 'hpa';
  /** HAPI_WORKERS the pods get: an explicit value, never derived from resources. */
  workers: number;
  redis: 'internal' | 'external' | 'existingSecret';
  /** Whether an Ingress is rendered, and which controller's annotations it carries. */
  ingress: false | 'none' | 'ingress-nginx';
  /** Whether an HTTPRoute is rendered; 'experimental': with the experimental-channel sessionPersistence. */
  gateway: false | 'standard' | 'experimental';
  /** The Deployment's Secret is part of the rendering (else someone else creates it, or nobody). */
  secretRendered: boolean;
  /** 'required' when you bring your own Secret (existingSecret); else the pods start without one. */
  secretRef: 'optional' | 'required';
  /** HAPI_DRAIN_TIMEOUT_MS the pods get. */
  drainTimeoutMs: number;
  /** false: no fixed runAsUser/runAsGroup (OpenShift restricted-v2 assigns them). Default true. */
  fixedUid?: boolean;
}

/** HTTPRouteRule fields of the Gateway API standard channel (v1.2+) that the hub's route may use. */
const STANDARD_ROUTE_RULE_FIELDS = ['matches', 'filters', 'backendRefs', 'timeouts'];

const REDIS_URL_FORMS = /^(redis|rediss|redis\+sentinel|redis\+cluster):\/\//;

interface HubView {
  objects: K8sObject[];
  deployment: K8sObject;
  container: any;
  podLabels: Record<string, string>;
  service: K8sObject;
  configMap: K8sObject;
  secret: K8sObject | undefined;
  /** The env the hub process sees (ConfigMap, Secret, env). */
  env: Record<string, string>;
  config: HubConfig;
}

/** The hub container of the Deployment, its ConfigMap and Secret, and the env its process sees. */
export function hubPod(objects: K8sObject[]): {
  deployment: K8sObject;
  container: any;
  configMap: K8sObject;
  secret: K8sObject | undefined;
  env: Record<string, string>;
} {
  const deployment = onlyOne(objects, 'Deployment');
  const container = (deployment.spec.template.spec.containers as any[]).find((c) => c.name === 'hub');
  if (!container) throw new Error('the Deployment has no container named hub');
  const configMapName = (container.envFrom as any[]).find((e) => e.configMapRef)?.configMapRef.name as string;
  const secretName = (container.envFrom as any[]).find((e) => e.secretRef)?.secretRef.name as string | undefined;
  const configMap = named(objects, 'ConfigMap', configMapName);
  if (!configMap) throw new Error(`ConfigMap ${configMapName} referenced by the Deployment is not rendered`);
  const secret = secretName ? named(objects, 'Secret', secretName) : undefined;
  const env: Record<string, string> = { ...(configMap.data as Record<string, string>) };
  if (secret) Object.assign(env, secretEntries(secret));
  for (const entry of (container.env ?? []) as any[]) {
    // A secret (the internal Redis's password) comes from a Secret key: resolved when that
    // Secret is part of the rendering, left unset when it is optional and absent.
    const ref = entry.valueFrom?.secretKeyRef;
    if (ref) {
      const source = named(objects, 'Secret', ref.name);
      const value = source ? secretEntries(source)[ref.key] : undefined;
      if (value !== undefined) env[entry.name] = value;
      else if (ref.optional !== true)
        throw new Error(`env ${entry.name}: Secret ${ref.name} key ${ref.key} not rendered`);
      continue;
    }
    // Hub variables are plain values: any other valueFrom (e.g. resourceFieldRef limits.cpu for
    // HAPI_WORKERS) would make the hub's behaviour depend on what the node hands out.
    if (entry.value === undefined)
      throw new Error(
        `env ${entry.name}: valueFrom ${JSON.stringify(entry.valueFrom)} (hub variables must be explicit)`,
      );
    env[entry.name] = String(entry.value);
  }
  return { deployment, container, configMap, secret, env };
}

function hubView(objects: K8sObject[]): HubView {
  const { deployment, container, configMap, secret, env } = hubPod(objects);
  const pod = deployment.spec.template;
  // The Secret might hold REDIS_URL and tokens we cannot see (existingSecret); the hub would
  // still start, so parse what is visible.
  const config = loadConfig(env);
  return {
    objects,
    deployment,
    container,
    podLabels: pod.metadata.labels,
    service: onlyOne(objects, 'Service', (s) => selects(s.spec.selector, pod.metadata.labels)),
    configMap,
    secret,
    env,
    config,
  };
}

/** Redis memory size (384mb, 1gb, 2048) in bytes. */
function redisBytes(text: string): number {
  const match = /^(\d+)(kb|mb|gb|k|m|g)?$/i.exec(text.trim());
  if (!match) throw new Error(`not a Redis memory size: ${text}`);
  const units: Record<string, number> = { k: 1e3, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };
  return Number(match[1]) * (match[2] ? units[match[2].toLowerCase()]! : 1);
}

/** Kubernetes quantity (512Mi, 1G, 1073741824) in bytes. */
function kubernetesBytes(text: string): number {
  const match = /^(\d+)(Ki|Mi|Gi|K|M|G)?$/.exec(String(text).trim());
  if (!match) throw new Error(`not a memory quantity: ${text}`);
  const units: Record<string, number> = { K: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };
  return Number(match[1]) * (match[2] ? units[match[2]]! : 1);
}

function preStopSleepSeconds(container: any): number {
  const preStop = container.lifecycle?.preStop;
  if (!preStop) return 0;
  if (preStop.sleep) return Number(preStop.sleep.seconds);
  const command = preStop.exec?.command as string[] | undefined;
  if (command?.[0] === 'sleep') return Number(command[1]);
  throw new Error(`preStop is neither a sleep nor exec sleep: ${JSON.stringify(preStop)}`);
}

export function hubManifestInvariants(
  render: () => K8sObject[] | Promise<K8sObject[]>,
  expected: HubExpectations,
): void {
  let view: HubView;
  let live: LiveHub;

  beforeAll(async () => {
    view = hubView(await render());
    live = await startLiveHub();
  }, 300_000);
  afterAll(async () => {
    await live?.hub.close();
  });

  it('every object is valid against its Kubernetes schema', () => {
    expect(schemaErrors(view.objects)).toEqual([]);
  });

  it('no object has a field its schema does not know (strict, as the API server with fieldValidation=Strict)', () => {
    expect(strictSchemaErrors(view.objects)).toEqual([]);
    // The first check in a worker compiles the models' types (seconds on a loaded 2-core machine).
  }, 120_000);

  it(`runs the one image of the project (${IMAGE_NAME_AND_TAG}, any registry)`, () => {
    // The hub container and Helm's test Pod (which runs the hub image too); sidecars are the user's.
    const images = [
      view.container.image as string,
      ...ofKind(view.objects, 'Pod').flatMap((p) => (p.spec.containers as any[]).map((c) => c.image as string)),
    ];
    for (const image of images) expect(image.split('/').at(-1)).toBe(IMAGE_NAME_AND_TAG);
  });

  it('rolls the pods when the configuration changes (hashed ConfigMap name or checksum annotation)', () => {
    const annotations = view.deployment.spec.template.metadata.annotations ?? {};
    const hashedName = /-[a-z0-9]{10}$/.test(view.configMap.metadata.name);
    expect(hashedName || /^[0-9a-f]{64}$/.test(annotations['checksum/config'] ?? '')).toBe(true);
  });

  it('puts every namespaced object in the expected namespace', () => {
    if (expected.namespace === undefined) return;
    const namespaced = view.objects.filter((o) => o.kind !== 'Namespace');
    expect(
      namespaced.filter((o) => o.metadata.namespace !== expected.namespace).map((o) => `${o.kind}/${o.metadata.name}`),
    ).toEqual([]);
    expect(ofKind(view.objects, 'Namespace').map((o) => o.metadata.name)).toEqual([expected.namespace]);
  });

  it('sets only variables the hub knows, and they parse with its config schema', () => {
    const names = [
      ...Object.keys(view.configMap.data ?? {}),
      ...Object.keys(view.secret ? secretEntries(view.secret) : {}),
      ...((view.container.env ?? []) as any[]).map((e) => e.name as string),
    ];
    expect(names.filter((name) => !isKnownEnv(name))).toEqual([]);
    expect(view.config.listenHost).toBe('0.0.0.0');
    expect(view.config.drainTimeoutMs).toBe(expected.drainTimeoutMs);
  });

  it('sets HAPI_WORKERS explicitly (never from a CPU limit), with Redis behind the pods', () => {
    expect(view.config.workers).toBe(expected.workers);
    expect(view.env.HAPI_WORKERS).toBe(String(expected.workers));
    expect(JSON.stringify(view.deployment)).not.toContain('resourceFieldRef');
    expect(view.container.resources.requests.cpu).toBeDefined();
    expect(view.container.resources.requests.memory).toBeDefined();
    expect(view.container.resources.limits.memory).toBeDefined();
    if (expected.redis !== 'existingSecret') expect(view.config.redisUrl).toMatch(REDIS_URL_FORMS);
  });

  it('probes /ready (readiness) and /health (liveness, startup) on the port the hub listens on', () => {
    const ports = view.container.ports as { name: string; containerPort: number }[];
    // The public port and the internal metrics listener, nothing else.
    expect(ports.map((p) => p.containerPort)).toEqual([view.config.listenPort, view.config.metricsListen?.port]);
    const probes = { startupProbe: '/health', readinessProbe: '/ready', livenessProbe: '/health' } as const;
    for (const [probe, path] of Object.entries(probes)) {
      const get = view.container[probe]?.httpGet;
      expect(get?.path, probe).toBe(path);
      const port = typeof get.port === 'number' ? get.port : ports.find((p) => p.name === get.port)?.containerPort;
      expect(port, `${probe} port ${get.port}`).toBe(view.config.listenPort);
    }
  });

  it('probe paths answer 200 on a real hub, the scrape path on its metrics listener only (404 on the public port)', async () => {
    const annotations = view.deployment.spec.template.metadata.annotations ?? {};
    const paths = new Set<string>([
      view.container.startupProbe.httpGet.path,
      view.container.readinessProbe.httpGet.path,
      view.container.livenessProbe.httpGet.path,
    ]);
    const statuses: Record<string, number> = {};
    for (const path of paths) statuses[path] = await live.status(path);
    expect(statuses).toEqual(Object.fromEntries([...paths].map((p) => [p, 200])));
    const scrape = annotations['prometheus.io/path'];
    expect(await live.metricsStatus(scrape)).toBe(200);
    expect(await live.status(scrape)).toBe(404);
  });

  it('has Prometheus scrape annotations for the metrics listener, which is not behind the Service', () => {
    const annotations = view.deployment.spec.template.metadata.annotations ?? {};
    expect(annotations['prometheus.io/scrape']).toBe('true');
    expect(view.config.metricsListen).toEqual({ host: '0.0.0.0', port: Number(annotations['prometheus.io/port']) });
    expect(view.config.metricsListen!.port).not.toBe(view.config.listenPort);
    expect(annotations['prometheus.io/path']).toBe('/metrics');
    const metricsPort = (view.container.ports as any[]).find(
      (p) => p.containerPort === view.config.metricsListen!.port,
    );
    const servicePorts = (view.service.spec.ports as any[]).map((p) => p.targetPort);
    expect(servicePorts).not.toContain(metricsPort.name);
    expect(servicePorts).not.toContain(metricsPort.containerPort);
  });

  it('gives SIGTERM room: terminationGracePeriodSeconds > preStop sleep + HAPI_DRAIN_TIMEOUT_MS', () => {
    const grace = view.deployment.spec.template.spec.terminationGracePeriodSeconds as number;
    const preStop = preStopSleepSeconds(view.container);
    expect(preStop).toBeGreaterThan(0);
    expect(grace).toBeGreaterThan(preStop + view.config.drainTimeoutMs / 1000);
  });

  it('runs non-root (the image user, or none fixed for OpenShift), read-only root filesystem with a writable /tmp', () => {
    const pod = view.deployment.spec.template.spec;
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    if (expected.fixedUid === false) {
      const fixed = [view.deployment, ...ofKind(view.objects, 'StatefulSet')].flatMap((w) =>
        ['runAsUser', 'runAsGroup', 'fsGroup']
          .filter((k) => w.spec.template.spec.securityContext?.[k] !== undefined)
          .map((k) => `${w.kind}/${w.metadata.name}.${k}`),
      );
      expect(fixed).toEqual([]);
    } else {
      expect(pod.securityContext.runAsUser).toBe(dockerfileUid());
    }
    expect(view.container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect((view.container.volumeMounts as any[]).map((m) => m.mountPath)).toContain('/tmp');
  });

  it('spreads pods over nodes (topology spread and anti-affinity on the pod labels)', () => {
    const pod = view.deployment.spec.template.spec;
    const spread = pod.topologySpreadConstraints as any[];
    expect(spread.map((c) => c.topologyKey)).toContain('kubernetes.io/hostname');
    for (const constraint of spread) expect(selects(constraint.labelSelector.matchLabels, view.podLabels)).toBe(true);
    const anti = pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution as any[];
    expect(anti.every((term) => selects(term.podAffinityTerm.labelSelector.matchLabels, view.podLabels))).toBe(true);
  });

  it('Deployment selector matches its pods; the Service selects exactly those pods on the hub port', () => {
    const matchLabels = view.deployment.spec.selector.matchLabels;
    expect(selects(matchLabels, view.podLabels)).toBe(true);
    expect(view.service.spec.selector).toEqual(matchLabels);
    // No other workload's pods (e.g. Redis) fall under the hub Service.
    const others = [...ofKind(view.objects, 'StatefulSet'), ...ofKind(view.objects, 'Deployment')].filter(
      (w) => w !== view.deployment,
    );
    expect(
      others
        .filter((w) => selects(view.service.spec.selector, w.spec.template.metadata.labels))
        .map((w) => w.metadata.name),
    ).toEqual([]);
    const [port] = view.service.spec.ports as any[];
    expect(port.targetPort).toBe('http');
    expect((view.container.ports as any[]).find((p) => p.name === port.targetPort)?.containerPort).toBe(
      view.config.listenPort,
    );
  });

  it('has a PDB over the hub pods, and enough replicas for it to allow a disruption', () => {
    const pdb = onlyOne(view.objects, 'PodDisruptionBudget');
    expect(selects(pdb.spec.selector.matchLabels, view.podLabels)).toBe(true);
    expect(pdb.spec.maxUnavailable).toBe(1);
    if (expected.replicas === 'hpa') {
      expect(view.deployment.spec.replicas).toBeUndefined();
    } else {
      expect(view.deployment.spec.replicas).toBe(expected.replicas);
      expect(expected.replicas).toBeGreaterThanOrEqual(2);
    }
  });

  it('has an HPA targeting the Deployment exactly when expected', () => {
    const hpas = ofKind(view.objects, 'HorizontalPodAutoscaler');
    expect(hpas.length).toBe(expected.replicas === 'hpa' ? 1 : 0);
    for (const hpa of hpas) {
      expect(hpa.spec.scaleTargetRef).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: view.deployment.metadata.name,
      });
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    }
  });

  it('Ingress: to the hub Service; no controller assumed unless a preset is chosen', () => {
    const ingresses = ofKind(view.objects, 'Ingress');
    expect(ingresses.length).toBe(expected.ingress ? 1 : 0);
    if (!expected.ingress) return;
    const ingress = ingresses[0]!;
    const backends = (ingress.spec.rules as any[]).flatMap((r) => r.http.paths.map((p: any) => p.backend.service));
    expect(backends.length).toBeGreaterThan(0);
    for (const backend of backends) {
      expect(backend.name).toBe(view.service.metadata.name);
      expect((view.service.spec.ports as any[]).map((p) => p.name)).toContain(backend.port.name);
    }
    const nginxAnnotations = Object.keys(ingress.metadata.annotations ?? {}).filter((k) =>
      k.startsWith('nginx.ingress.kubernetes.io/'),
    );
    if (expected.ingress === 'none') {
      expect(ingress.spec.ingressClassName).toBeUndefined();
      expect(nginxAnnotations).toEqual([]);
    } else {
      expect(nginxAnnotations.length).toBeGreaterThan(0);
    }
  });

  it("Ingress (ingress-nginx preset): cookie affinity with the LB cookie of deploy/haproxy.cfg (not Socket.IO's), long timeouts, body size ≥ the hub limit", async () => {
    if (expected.ingress !== 'ingress-nginx') return;
    const ingress = onlyOne(view.objects, 'Ingress');
    const a = ingress.metadata.annotations ?? {};
    expect(a['nginx.ingress.kubernetes.io/affinity']).toBe('cookie');
    expect(a['nginx.ingress.kubernetes.io/session-cookie-name']).toBe(lbCookieName());
    // The hub's own Socket.IO cookie (src/hub.ts) must stay untouched by the LB.
    const hubCookies = await live.socketIoCookieNames();
    expect(hubCookies.length).toBeGreaterThan(0);
    expect(hubCookies).not.toContain(a['nginx.ingress.kubernetes.io/session-cookie-name']);
    expect(a['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
    expect(Number(a['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThan(
      view.config.sseHeartbeatMs / 1000,
    );
    expect(nginxSizeBytes(a['nginx.ingress.kubernetes.io/proxy-body-size'] ?? '')).toBeGreaterThanOrEqual(
      Math.max(view.config.maxBodyBytes, view.config.maxHttpBufferBytes),
    );
  });

  it('HTTPRoute: standard-channel fields only (sessionPersistence only when asked for), to the hub Service, no request timeout', () => {
    const routes = ofKind(view.objects, 'HTTPRoute');
    expect(routes.length).toBe(expected.gateway ? 1 : 0);
    for (const route of routes) {
      for (const rule of route.spec.rules as any[]) {
        const nonStandard = Object.keys(rule).filter((k) => !STANDARD_ROUTE_RULE_FIELDS.includes(k));
        if (expected.gateway === 'experimental') {
          expect(nonStandard).toEqual(['sessionPersistence']);
          expect(rule.sessionPersistence).toMatchObject({ type: 'Cookie', sessionName: lbCookieName() });
        } else {
          expect(nonStandard).toEqual([]);
        }
        expect(rule.timeouts.request).toBe('0s');
        expect(rule.backendRefs).toEqual([
          { name: view.service.metadata.name, port: (view.service.spec.ports as any[])[0].port },
        ]);
      }
    }
  });

  it('Redis: an AOF StatefulSet with a PVC behind REDIS_URL when internal, none when external', () => {
    const statefulSets = ofKind(view.objects, 'StatefulSet');
    if (expected.redis !== 'internal') {
      expect(statefulSets).toEqual([]);
      if (expected.redis === 'external') expect(view.config.redisUrl).toMatch(REDIS_URL_FORMS);
      return;
    }
    const redis = onlyOne(view.objects, 'StatefulSet');
    const container = redis.spec.template.spec.containers[0];
    expect(container.image).toMatch(/^redis:7(\.|$)/);
    const args = (container.args ?? []) as string[];
    expect(args[args.indexOf('--appendonly') + 1]).toBe('yes');
    expect(args[args.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
    const dataDir = args[args.indexOf('--dir') + 1];
    const claim = (redis.spec.volumeClaimTemplates as any[])[0];
    expect(claim.spec.resources.requests.storage).toBeDefined();
    expect(container.volumeMounts).toContainEqual({ name: claim.metadata.name, mountPath: dataDir });
    // Password: requirepass from a Secret key the hub gets too (REDIS_PASSWORD), never a literal.
    const secretRef = (name: string) =>
      ((container.env ?? []) as any[]).find((e) => e.name === name)?.valueFrom?.secretKeyRef;
    expect(args[args.indexOf('--requirepass') + 1]).toBe('$(REDIS_PASSWORD)');
    const redisRef = secretRef('REDIS_PASSWORD');
    expect(redisRef).toBeDefined();
    expect(secretRef('REDISCLI_AUTH')).toEqual(redisRef);
    const hubRef = ((view.container.env ?? []) as any[]).find((e) => e.name === 'REDIS_PASSWORD')?.valueFrom
      ?.secretKeyRef;
    expect({ name: hubRef?.name, key: hubRef?.key }).toEqual({ name: redisRef.name, key: redisRef.key });
    const passwordSecret = named(view.objects, 'Secret', redisRef.name);
    expect(passwordSecret, `Secret ${redisRef.name}`).toBeDefined();
    expect(secretEntries(passwordSecret!)[redisRef.key]!.length).toBeGreaterThanOrEqual(32);
    expect(view.env.REDIS_PASSWORD).toBe(secretEntries(passwordSecret!)[redisRef.key]);
    // maxmemory below the container limit, with room for overhead and the AOF rewrite.
    expect(redisBytes(args[args.indexOf('--maxmemory') + 1]!)).toBeLessThanOrEqual(
      0.8 * kubernetesBytes(container.resources.limits.memory),
    );
    // Only hub pods may connect.
    const policies = ofKind(view.objects, 'NetworkPolicy').filter((p) =>
      selects(p.spec.podSelector.matchLabels, redis.spec.template.metadata.labels),
    );
    expect(policies).toHaveLength(1);
    expect(policies[0]!.spec.policyTypes).toEqual(['Ingress']);
    const ingress = policies[0]!.spec.ingress as any[];
    expect(ingress).toHaveLength(1);
    expect(ingress[0].ports).toEqual([{ protocol: 'TCP', port: 6379 }]);
    expect(ingress[0].from).toHaveLength(1);
    expect(ingress[0].from[0].namespaceSelector).toBeUndefined();
    expect(selects(ingress[0].from[0].podSelector.matchLabels, view.podLabels)).toBe(true);
    expect(selects(ingress[0].from[0].podSelector.matchLabels, redis.spec.template.metadata.labels)).toBe(false);

    const url = new URL(view.config.redisUrl!);
    const service = named(view.objects, 'Service', url.hostname);
    expect(service, `Service ${url.hostname} of REDIS_URL`).toBeDefined();
    expect(redis.spec.serviceName).toBe(url.hostname);
    expect(selects(service!.spec.selector, redis.spec.template.metadata.labels)).toBe(true);
    expect((service!.spec.ports as any[]).map((p) => p.port)).toContain(Number(url.port));
  });

  it('reads tokens from a Secret that is optional unless you bring your own', () => {
    const secretRef = (view.container.envFrom as any[]).find((e) => e.secretRef)?.secretRef;
    expect(secretRef).toBeDefined();
    expect(secretRef.optional === true ? 'optional' : 'required').toBe(expected.secretRef);
    // envFrom order decides: the Secret comes last so it overrides the ConfigMap.
    expect((view.container.envFrom as any[]).at(-1).secretRef).toBeDefined();
    if (expected.secretRendered) expect(view.secret).toBeDefined();
    else expect(view.secret).toBeUndefined();
    for (const key of Object.keys(view.secret ? secretEntries(view.secret) : {})) expect(HUB_ENV_KEYS).toContain(key);
  });
}
