// Facts the deployment artifacts must agree with, read from their sources of truth: the hub's
// config schema (src/config.ts), the HAProxy configs, the Dockerfile, and a real hub.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigEnvSchema } from '../../src/config.js';
import { startMetricsListener } from '../../src/ops/metrics-listener.js';
import { createLogger } from '../../src/ops/logger.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { REPO_ROOT } from './k8s-tools.js';

/** Variables the hub reads (src/config.ts). */
export const HUB_ENV_KEYS: readonly string[] = Object.keys(ConfigEnvSchema.shape);

/**
 * Variables an artifact may set although the hub does not read them, each with the reason.
 * Anything else outside HUB_ENV_KEYS is drift (a typo, or a variable the hub lost).
 */
export const DOCUMENTED_NON_HUB_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: 'read by Node libraries (production mode), not by the hub',
};

export function isKnownEnv(name: string): boolean {
  return HUB_ENV_KEYS.includes(name) || name in DOCUMENTED_NON_HUB_ENV;
}

/** The schema's defaults (what the hub uses for an unset variable). */
export function hubEnvDefaults(): Record<string, unknown> {
  return ConfigEnvSchema.parse({}) as Record<string, unknown>;
}

export function readRepoFile(relativePath: string): string {
  return readFileSync(join(REPO_ROOT, relativePath), 'utf8');
}

// HAProxy --------------------------------------------------------------------------------------

export interface HaproxySection {
  /** e.g. "defaults", "frontend hapi", "backend hapi_hubs". */
  header: string;
  /** Directives, whitespace-normalised, comments and blank lines removed, in order. */
  lines: string[];
}

/** Splits an HAProxy config into sections (conditional blocks `.if/.endif` stay as lines). */
export function parseHaproxy(text: string): HaproxySection[] {
  const sections: HaproxySection[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim().replace(/\s+/g, ' ');
    if (line === '') continue;
    if (
      /^(global|defaults|frontend|backend|listen|resolvers|peers|userlist|program)\b/.test(line) &&
      !raw.startsWith(' ') &&
      !raw.startsWith('\t')
    ) {
      sections.push({ header: line, lines: [] });
    } else {
      sections.at(-1)?.lines.push(line);
    }
  }
  return sections;
}

export function haproxySection(sections: HaproxySection[], header: string): HaproxySection {
  const found = sections.find((s) => s.header === header || s.header.startsWith(`${header} `));
  if (!found)
    throw new Error(`no '${header}' section in HAProxy config (have: ${sections.map((s) => s.header).join(', ')})`);
  return found;
}

/** The `cookie <name> …` directive of a backend: the LB's affinity cookie and its options. */
export function haproxyAffinityCookie(backend: HaproxySection): { name: string; options: string[] } {
  const line = backend.lines.find((l) => l.startsWith('cookie '));
  if (!line) throw new Error(`backend '${backend.header}' has no cookie directive`);
  const [, name, ...options] = line.split(' ');
  return { name: name!, options };
}

/** LB affinity cookie of deploy/haproxy.cfg (the cluster runtime's config). */
export function lbCookieName(): string {
  return haproxyAffinityCookie(haproxySection(parseHaproxy(readRepoFile('deploy/haproxy.cfg')), 'backend')).name;
}

// Dockerfile -----------------------------------------------------------------------------------

export interface DockerInstruction {
  keyword: string;
  args: string;
}

export interface DockerStage {
  from: string;
  name: string | undefined;
  instructions: DockerInstruction[];
}

export interface Dockerfile {
  /** ARGs before the first FROM (usable in FROM lines), with their defaults. */
  globalArgs: Record<string, string>;
  stages: DockerStage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw) && current === '') continue;
    if (/^\s*#/.test(raw)) continue; // comment lines inside a continued instruction
    if (raw.endsWith('\\')) {
      current += `${raw.slice(0, -1)} `;
      continue;
    }
    current += raw;
    if (current.trim() !== '') logical.push(current.trim());
    current = '';
  }
  const result: Dockerfile = { globalArgs: {}, stages: [] };
  for (const line of logical) {
    const match = /^(\w+)\s+([\s\S]*)$/.exec(line);
    if (!match) continue;
    const keyword = match[1]!.toUpperCase();
    const args = match[2]!.replace(/\s+/g, ' ').trim();
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      result.stages.push({ from: from![1]!, name: from![2], instructions: [] });
    } else if (result.stages.length === 0 && keyword === 'ARG') {
      const [name, value = ''] = args.split('=');
      result.globalArgs[name!] = value;
    } else {
      result.stages.at(-1)?.instructions.push({ keyword, args });
    }
  }
  return result;
}

/** `["a", "b"]` (exec form) → ['a', 'b']. */
export function execForm(args: string): string[] {
  const parsed = JSON.parse(args) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) throw new Error(`not exec form: ${args}`);
  return parsed;
}

/** The numeric UID the final image runs as (USER uid[:gid]). */
export function dockerfileUid(): number {
  const dockerfile = parseDockerfile(readRepoFile('deploy/Dockerfile'));
  const user = dockerfile.stages
    .at(-1)!
    .instructions.filter((i) => i.keyword === 'USER')
    .at(-1);
  if (!user) throw new Error('final stage sets no USER');
  return Number(user.args.split(':')[0]);
}

// A real hub -----------------------------------------------------------------------------------

export interface LiveHub {
  hub: TestHub;
  /** HTTP status of GET path on the public port. */
  status(path: string): Promise<number>;
  /** HTTP status of GET path on the internal metrics listener (HAPI_METRICS_PORT). */
  metricsStatus(path: string): Promise<number>;
  /** Names of the cookies Socket.IO sets on a long-polling handshake. */
  socketIoCookieNames(): Promise<string[]>;
}

/** A hub in this process (memory engine), to check that probe and scrape paths exist. */
export async function startLiveHub(): Promise<LiveHub> {
  const hub = await startTestHub();
  // The listener hub/process.ts starts beside the public port, on a free loopback port.
  const registry = hub.hub.metrics.registry;
  const metrics = await startMetricsListener(
    { host: '127.0.0.1', port: 0 },
    { contentType: registry.contentType, render: () => registry.metrics() },
    createLogger('silent'),
  );
  const statusOf = async (url: string): Promise<number> => {
    const response = await fetch(url);
    await response.arrayBuffer();
    return response.status;
  };
  const close = hub.close.bind(hub);
  hub.close = async () => {
    await metrics.close();
    await close();
  };
  return {
    hub,
    status: (path) => statusOf(`${hub.url}${path}`),
    metricsStatus: (path) => statusOf(`http://127.0.0.1:${metrics.port}${path}`),
    async socketIoCookieNames() {
      const response = await fetch(`${hub.url}/socket.io/?EIO=4&transport=polling`);
      await response.arrayBuffer();
      return response.headers.getSetCookie().map((cookie) => cookie.split('=')[0]!);
    },
  };
}
