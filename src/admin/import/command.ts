// `hapi-hub import --from <upstream hapi.db> [--home <upstream HAPI_HOME>]`: argument parsing,
// the progress line and the summary around importUpstream (run-import.ts).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { HubConfig } from '../../config.js';
import { createEngine } from '../../engine/index.js';
import { importUpstream, type ImportReport } from './run-import.js';
import { UpstreamDb, UpstreamDbError } from './upstream-db.js';
import { UpstreamSettingsSchema } from './upstream-rows.js';

export const IMPORT_USAGE = `usage: hapi-hub import --from <upstream hapi.db | upstream HAPI_HOME> [--home <upstream HAPI_HOME>]

Copies an upstream HAPI hub's data (0.30.7, schema 26) into this hub's engine (HAPI_ENGINE=sqlite
with HAPI_DATA_DIR, or Redis with REDIS_URL): namespaces, machines, sessions (metadata, agent
state and their versions; all inactive until their CLI reconnects), messages (ids, seqs, local
ids, timestamps) and the hub-wide CLI_API_TOKEN from <home>/settings.json, so agent CLIs keep
their token. Rows already present are skipped: running it again adds nothing.

  --from <path>   the upstream database (read-only; stop the upstream hub first), or its HAPI_HOME
  --home <dir>    where upstream's settings.json is (default: the directory of the database)
  --help          this text`;

interface ImportArgs {
  from: string;
  home: string;
}

type Parsed = { ok: true; args: ImportArgs } | { ok: false; code: number; text: string };

export function parseImportArgs(argv: string[]): Parsed {
  let from: string | undefined;
  let home: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') return { ok: false, code: 0, text: IMPORT_USAGE };
    // A template literal: test/deploy scans dist/ for package imports and would read a quoted --from as one.
    if (arg === `--from` || arg === '--home') {
      const value = argv[++i];
      if (value === undefined || value.startsWith('--'))
        return { ok: false, code: 2, text: `${arg} needs a value\n${IMPORT_USAGE}` };
      if (arg === '--home') home = resolve(value);
      else from = resolve(value);
      continue;
    }
    return { ok: false, code: 2, text: `unknown argument ${arg}\n${IMPORT_USAGE}` };
  }
  if (from === undefined) return { ok: false, code: 2, text: `--from is required\n${IMPORT_USAGE}` };
  // A HAPI_HOME directory stands for the hapi.db inside it.
  if (existsSync(from) && statSync(from).isDirectory()) from = join(from, 'hapi.db');
  return { ok: true, args: { from, home: home ?? dirname(from) } };
}

/** Upstream's hub-wide token from settings.json, or null (with the reason in `note`). */
function readHubToken(home: string, note: (line: string) => void): string | null {
  const path = join(home, 'settings.json');
  if (!existsSync(path)) {
    note(`no ${path}: the hub-wide CLI_API_TOKEN is not carried over (give --home <upstream HAPI_HOME>)`);
    return null;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    note(`${path} is not JSON (${(error as Error).message}): the CLI_API_TOKEN is not carried over`);
    return null;
  }
  const settings = UpstreamSettingsSchema.safeParse(raw);
  const token = settings.success ? settings.data.cliApiToken : undefined;
  if (token === undefined) note(`${path} has no cliApiToken: the CLI_API_TOKEN is not carried over`);
  return token ?? null;
}

export async function runImportCommand(
  config: HubConfig,
  argv: string[],
  out: (line: string) => void,
  err: (text: string) => void,
  stderrIsTty = false,
): Promise<number> {
  const parsed = parseImportArgs(argv);
  if (!parsed.ok) {
    (parsed.code === 0 ? out : (text: string) => err(`${text}\n`))(parsed.text);
    return parsed.code;
  }
  if (config.engineKind === 'memory') {
    err(
      'import: the memory engine keeps nothing after this command exits; use HAPI_ENGINE=sqlite (HAPI_DATA_DIR) or REDIS_URL\n',
    );
    return 2;
  }
  const { from, home } = parsed.args;
  let upstream: UpstreamDb;
  try {
    upstream = UpstreamDb.open(from);
  } catch (error) {
    if (error instanceof UpstreamDbError) {
      err(`import: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  try {
    const hubToken = readHubToken(home, (line) => err(`import: ${line}\n`));
    const engine = await createEngine(config);
    try {
      const report = await importUpstream(upstream, engine, {
        hubToken,
        onProgress: (done, total) =>
          err(`${stderrIsTty ? '\r' : ''}import: messages ${done}/${total}${stderrIsTty ? '' : '\n'}`),
      });
      if (stderrIsTty) err('\n');
      for (const line of summary(report, from, upstream.schemaVersion, config)) out(line);
      return 0;
    } finally {
      await engine.close();
    }
  } catch (error) {
    if (error instanceof UpstreamDbError) {
      err(`import: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    upstream.close();
  }
}

function summary(report: ImportReport, from: string, schema: number, config: HubConfig): string[] {
  const kinds = ['namespaces', 'machines', 'sessions', 'messages'] as const;
  const lines = [`imported ${from} (upstream schema ${schema}) into the ${config.engineKind} engine`];
  for (const kind of kinds) lines.push(`${kind}: ${report[kind].added} added, ${report[kind].skipped} skipped`);
  const token = {
    'carried-over': 'hub token: carried over (CLIs keep their CLI_API_TOKEN, with or without :namespace)',
    'kept-existing':
      "hub token: NOT carried over: this hub already has its own generated token (kept so its CLIs keep working); run the hub with CLI_API_TOKEN=<upstream's token> to accept the old one",
    'not-found': 'hub token: not found (see above)',
  }[report.hubToken];
  lines.push(token);
  if (config.cliApiToken !== undefined && report.hubToken === 'carried-over')
    lines.push('note: CLI_API_TOKEN is set in this environment; when the hub runs with it, that token wins');
  for (const conflict of report.conflicts) lines.push(`conflict: ${conflict}`);
  const behind = Object.entries(report.leftBehind).filter(([, n]) => n > 0);
  if (behind.length > 0)
    lines.push(`not carried over: ${behind.map(([table, n]) => `${n} ${table}`).join(', ')} (see README)`);
  return lines;
}
