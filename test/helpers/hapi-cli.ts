// The REAL HAPI CLI (npm `@twsxtd/hapi-linux-x64`, a Bun-compiled binary) for interop tests.
//
//   const cli = await ensureHapiCli();              // install once into <repo>/.cache/hapi-cli
//   describe.skipIf(!cli.bin)(...)                  // cli.reason says why when it is missing
//   const procs = new HapiProcesses(cli.bin!);
//   const runner = procs.spawn(['runner', 'start-sync', '--workspace-root', dir], { hubUrl, token });
//   await runner.waitForOutput(/Machine ID:\s+(\S+)/);
//   await procs.cleanup();                          // every process of every HAPI_HOME, then the dirs
//
// Isolation: each instance gets its own HAPI_HOME (also HOME, so ~/.hapi and ~/.claude land in the
// temp dir), a PATH of only the stand-in agents + /usr/bin:/bin, and HTTP(S)_PROXY pointing at a
// closed loopback port with NO_PROXY for loopback, so nothing the CLI might fetch can leave the
// machine. Process cleanup: the runner starts its session children `detached` (their own process
// groups), so killing one group is not enough; every process whose environment carries one of our
// HAPI_HOME values (found through /proc/<pid>/environ) is killed, group and all.
//
// The binary is AGPL and ~140 MB: it is installed at test time into .cache/ (gitignored), never
// committed. `HAPI_CLI_BIN=/path/to/hapi` overrides the install (e.g. an offline machine).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server as IoServer } from 'socket.io';

export const HAPI_CLI_PACKAGE = '@twsxtd/hapi-linux-x64';
export const HAPI_CLI_VERSION = '0.30.7';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Install location; HAPI_CLI_CACHE_DIR moves it (e.g. to share one install between checkouts). */
const cacheDir = process.env.HAPI_CLI_CACHE_DIR ?? join(repoRoot, '.cache', 'hapi-cli');

export interface HapiCliAvailability {
  /** Absolute path of the `hapi` binary, or null when it could not be installed. */
  bin: string | null;
  /** Why `bin` is null (printed by the suites that skip). */
  reason?: string;
}

function binIn(prefix: string): string {
  return join(prefix, 'node_modules', ...HAPI_CLI_PACKAGE.split('/'), 'bin', 'hapi');
}

function versionOk(bin: string): boolean {
  let stamp: string;
  try {
    accessSync(bin, constants.X_OK);
    const st = statSync(bin);
    stamp = `${HAPI_CLI_VERSION}:${st.size}:${st.mtimeMs}`;
  } catch {
    return false;
  }
  // Starting the 140 MB binary costs seconds on a busy machine: remember a successful check next
  // to it (keyed by size and mtime), so each test file does not pay for it again.
  const marker = `${bin}.verified`;
  try {
    if (readFileSync(marker, 'utf8') === stamp) return true;
  } catch {
    // not verified yet
  }
  const res = spawnSync(bin, ['--version'], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: '/usr/bin:/bin', HOME: tmpdir() },
  });
  const ok = res.status === 0 && res.stdout.includes(HAPI_CLI_VERSION);
  if (ok) {
    try {
      writeFileSync(marker, stamp);
    } catch {
      // read-only location (HAPI_CLI_BIN): check again next time
    }
  }
  return ok;
}

let availability: Promise<HapiCliAvailability> | null = null;

/**
 * Makes sure the real CLI binary is available: `HAPI_CLI_BIN`, else the cache, else
 * `npm install` into a private temp prefix that is renamed into place (so parallel test files
 * never see a half-written install). Never throws: failures come back as `{bin:null, reason}`.
 */
export function ensureHapiCli(): Promise<HapiCliAvailability> {
  availability ??= Promise.resolve().then(installOnce);
  return availability;
}

function installOnce(): HapiCliAvailability {
  const override = process.env.HAPI_CLI_BIN;
  if (override) {
    return versionOk(override)
      ? { bin: override }
      : { bin: null, reason: `HAPI_CLI_BIN=${override} is not an executable hapi ${HAPI_CLI_VERSION}` };
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return {
      bin: null,
      reason: `${HAPI_CLI_PACKAGE} only runs on linux-x64 (this is ${process.platform}-${process.arch})`,
    };
  }
  const cached = binIn(cacheDir);
  if (versionOk(cached)) return { bin: cached };
  mkdirSync(dirname(cacheDir), { recursive: true });
  const staging = `${cacheDir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const res = spawnSync(
    'npm',
    [
      'install',
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--prefix',
      staging,
      `${HAPI_CLI_PACKAGE}@${HAPI_CLI_VERSION}`,
    ],
    {
      encoding: 'utf8',
      timeout: 10 * 60_000,
      cwd: dirname(cacheDir),
    },
  );
  if (res.status !== 0 || !versionOk(binIn(staging))) {
    rmSync(staging, { recursive: true, force: true });
    const lines = `${res.stderr ?? ''}`
      .trim()
      .split('\n')
      .filter((l) => l.trim() !== '' && !/npm warn/i.test(l));
    const telling = lines.filter((l) => /npm error (code|errno|network|notarget|404|request)/i.test(l));
    const detail =
      res.error?.message ??
      ((telling.length > 0 ? telling : lines.slice(-3)).slice(0, 4).join(' | ') || `exit ${res.status}`);
    // Another test file may have finished the same install meanwhile.
    if (versionOk(cached)) return { bin: cached };
    return { bin: null, reason: `npm install ${HAPI_CLI_PACKAGE}@${HAPI_CLI_VERSION} failed: ${detail}` };
  }
  try {
    rmSync(cacheDir, { recursive: true, force: true });
    renameSync(staging, cacheDir);
  } catch {
    rmSync(staging, { recursive: true, force: true });
  }
  return versionOk(cached)
    ? { bin: cached }
    : { bin: null, reason: `installed ${HAPI_CLI_PACKAGE} but ${cached} does not run` };
}

// Stand-in agents --------------------------------------------------------------------------

/**
 * A stand-in `claude` (Claude Code). What the real CLI does with it (0.30.7):
 * - the runner's spawn preflight only resolves `claude` on PATH (executable file);
 * - `hapi claude` runs `claude --output-format stream-json --verbose ... --print hello` once to
 *   read the tool/slash-command catalogue from the `system/init` line;
 * - on the first user prompt (remote mode) it runs `claude ... --input-format stream-json`, writes
 *   `{"type":"user",...}` lines to its stdin, reads stream-json from stdout, and after
 *   `system/init` waits for `<CLAUDE_CONFIG_DIR|~/.claude>/projects/<cwd with non-alnum → '-'>/<session_id>.jsonl`.
 * This script answers `--version`, prints `system/init` (creating that transcript file), and per
 * user line one assistant text reply ("fake reply") plus a `result`, then keeps reading stdin. A
 * user line containing FAKE_TOOL_REQUEST instead gets an assistant `tool_use` (Bash) and a
 * `control_request` {subtype:'can_use_tool'}; the CLI's `control_response` then gets the reply
 * "tool allowed" or "tool denied". Every invocation and stdin line is appended to $FAKE_CLAUDE_LOG.
 */
export const FAKE_CLAUDE_SCRIPT = `#!/bin/sh
echo "$(date +%s%N) pid=$$ args=$*" >> "\${FAKE_CLAUDE_LOG:-/dev/null}"
case " $* " in
  *" --version "*) echo "2.1.999 (Claude Code)"; exit 0 ;;
esac
SID="$(cat /proc/sys/kernel/random/uuid)"
PROJ="\${CLAUDE_CONFIG_DIR:-$HOME/.claude}/projects/$(printf '%s' "$PWD" | sed 's/[^a-zA-Z0-9]/-/g')"
case " $* " in
  *" --print "*) ;;
  *) mkdir -p "$PROJ" && : > "$PROJ/$SID.jsonl" ;;
esac
echo "{\\"type\\":\\"system\\",\\"subtype\\":\\"init\\",\\"session_id\\":\\"$SID\\",\\"cwd\\":\\"$PWD\\",\\"tools\\":[\\"Bash\\"],\\"slash_commands\\":[\\"compact\\"],\\"skills\\":[],\\"model\\":\\"fake\\",\\"permissionMode\\":\\"default\\",\\"apiKeySource\\":\\"none\\",\\"mcp_servers\\":[]}"
RESULT="{\\"type\\":\\"result\\",\\"subtype\\":\\"success\\",\\"session_id\\":\\"$SID\\",\\"is_error\\":false,\\"num_turns\\":1,\\"result\\":\\"fake reply\\",\\"duration_ms\\":1,\\"duration_api_ms\\":1,\\"total_cost_usd\\":0,\\"usage\\":{}}"
case " $* " in
  *" --print "*) echo "$RESULT"; exit 0 ;;
esac
echo "$(date +%s%N) pid=$$ agent-ready" >> "\${FAKE_CLAUDE_LOG:-/dev/null}"
say() {
  echo "{\\"type\\":\\"assistant\\",\\"session_id\\":\\"$SID\\",\\"message\\":{\\"id\\":\\"msg_$$_$N\\",\\"type\\":\\"message\\",\\"role\\":\\"assistant\\",\\"model\\":\\"fake\\",\\"content\\":[{\\"type\\":\\"text\\",\\"text\\":\\"$1\\"}],\\"stop_reason\\":\\"end_turn\\",\\"usage\\":{\\"input_tokens\\":1,\\"output_tokens\\":1}}}"
  echo "$RESULT"
}
N=0
while IFS= read -r line; do
  N=$((N + 1))
  echo "$(date +%s%N) pid=$$ stdin=$line" >> "\${FAKE_CLAUDE_LOG:-/dev/null}"
  case "$line" in
    *'"type":"user"'*FAKE_TOOL_REQUEST*)
      # A Bash tool call that needs the user's permission (can_use_tool over the control channel).
      TOOL="toolu_$$_$N"
      echo "{\\"type\\":\\"assistant\\",\\"session_id\\":\\"$SID\\",\\"message\\":{\\"id\\":\\"msg_$$_$N\\",\\"type\\":\\"message\\",\\"role\\":\\"assistant\\",\\"model\\":\\"fake\\",\\"content\\":[{\\"type\\":\\"tool_use\\",\\"id\\":\\"$TOOL\\",\\"name\\":\\"Bash\\",\\"input\\":{\\"command\\":\\"echo interop-$N\\"}}],\\"stop_reason\\":\\"tool_use\\",\\"usage\\":{\\"input_tokens\\":1,\\"output_tokens\\":1}}}"
      echo "{\\"type\\":\\"control_request\\",\\"request_id\\":\\"perm-$N\\",\\"request\\":{\\"subtype\\":\\"can_use_tool\\",\\"tool_name\\":\\"Bash\\",\\"input\\":{\\"command\\":\\"echo interop-$N\\"}}}"
      ;;
    *'"type":"control_response"'*'"behavior":"allow"'*) say "tool allowed" ;;
    *'"type":"control_response"'*'"behavior":"deny"'*) say "tool denied" ;;
    *'"type":"user"'*) say "fake reply" ;;
  esac
done
`;

/** Writes the stand-in agents into `dir` (created) and returns it, for the front of PATH. */
export function writeFakeAgents(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'claude');
  writeFileSync(path, FAKE_CLAUDE_SCRIPT);
  chmodSync(path, 0o755);
  return dir;
}

// Processes --------------------------------------------------------------------------------

export interface SpawnHapiOptions {
  hubUrl: string;
  /** CLI_API_TOKEN: `base` or `base:namespace`. */
  token: string;
  /** HAPI_HOME (and HOME); a fresh temp dir when omitted. Reusing one reuses its machine id. */
  home?: string;
  cwd?: string;
  /** Directories put in front of PATH (e.g. the stand-in agents). */
  pathPrepend?: string[];
  env?: Record<string, string>;
}

export interface HapiExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class HapiProcess {
  readonly pid: number;
  private out = '';
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<HapiExit>;
  exit: HapiExit | null = null;

  constructor(
    readonly child: ChildProcess,
    readonly home: string,
    readonly args: string[],
  ) {
    if (child.pid === undefined) throw new Error(`hapi ${args.join(' ')} did not start`);
    this.pid = child.pid;
    const onData = (chunk: Buffer) => {
      this.out += chunk.toString('utf8');
      for (const wake of [...this.waiters]) wake();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        for (const wake of [...this.waiters]) wake();
        resolveExit(this.exit);
      });
    });
  }

  /** Everything the process wrote to stdout and stderr so far. */
  output(): string {
    return this.out;
  }

  /** Waits until the output matches; returns the match. Fails fast if the process exits. */
  waitForOutput(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    return new Promise((resolveWait, reject) => {
      const check = (): boolean => {
        const match = this.out.match(pattern);
        if (match) {
          done();
          resolveWait(match);
          return true;
        }
        if (this.exit) {
          done();
          reject(
            new Error(
              `hapi ${this.args.join(' ')} exited (${JSON.stringify(this.exit)}) before printing ${pattern}; output:\n${this.out}`,
            ),
          );
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${pattern} from hapi ${this.args.join(' ')}; output:\n${this.out}`,
          ),
        );
      }, timeoutMs);
      const wake = () => void check();
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
      };
      this.waiters.add(wake);
      check();
    });
  }

  /** Sends `signal` to the process (its own process group) and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<HapiExit> {
    if (this.exit) return this.exit;
    signalGroup(this.pid, signal);
    const timer = setTimeout(() => signalGroup(this.pid, 'SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
    } catch {
      // already gone / not a group leader
    }
  }
}

/** Pids of live processes whose environment has HAPI_HOME=<home> (Linux /proc). */
export function processesOfHome(home: string): number[] {
  const needle = `HAPI_HOME=${home}\0`;
  const pids: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
      if (`${environ}\0`.includes(needle)) {
        const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
        // Zombies have no environ worth killing; skip state Z.
        if (!/\) Z /.test(stat)) pids.push(pid);
      }
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return pids;
}

/** Spawns real `hapi` processes with isolated homes and kills every one of them at the end. */
export class HapiProcesses {
  private readonly homes = new Set<string>();
  private readonly procs: HapiProcess[] = [];
  private readonly scratch: string;
  readonly fakeBin: string;
  /** TMPDIR of every spawned process. */
  readonly tmp: string;

  constructor(readonly bin: string) {
    this.scratch = mkdtempSync(join(tmpdir(), 'hapi-interop-'));
    this.fakeBin = writeFakeAgents(join(this.scratch, 'fake-bin'));
    // The CLI keeps uploads etc. under os.tmpdir() (e.g. <tmp>/hapi-blobs): keep them in scratch.
    this.tmp = join(this.scratch, 'tmp');
    mkdirSync(this.tmp);
    // A test worker that dies without running cleanup() must not leave runners behind.
    process.once('exit', this.killAllNow);
  }

  private readonly killAllNow = (): void => {
    for (const home of this.homes) for (const pid of processesOfHome(home)) signalGroup(pid, 'SIGKILL');
    for (const proc of this.procs) if (!proc.exit) signalGroup(proc.pid, 'SIGKILL');
  };

  /** A fresh directory under this harness's scratch dir (removed by cleanup). */
  tempDir(prefix: string): string {
    return mkdtempSync(join(this.scratch, `${prefix}-`));
  }

  /** A fresh HAPI_HOME. */
  newHome(): string {
    const home = this.tempDir('home');
    this.homes.add(home);
    return home;
  }

  env(options: SpawnHapiOptions, home: string): Record<string, string> {
    const path = [...(options.pathPrepend ?? []), '/usr/bin', '/bin'].join(':');
    return {
      PATH: path,
      HOME: home,
      HAPI_HOME: home,
      HAPI_API_URL: options.hubUrl,
      CLI_API_TOKEN: options.token,
      TMPDIR: this.tmp,
      LANG: 'C.UTF-8',
      // Anything that tries to leave loopback hits a closed port.
      HTTP_PROXY: 'http://127.0.0.1:9',
      HTTPS_PROXY: 'http://127.0.0.1:9',
      http_proxy: 'http://127.0.0.1:9',
      https_proxy: 'http://127.0.0.1:9',
      NO_PROXY: '127.0.0.1,localhost',
      no_proxy: '127.0.0.1,localhost',
      // The runner must not replace itself when the binary's mtime changes under it.
      HAPI_DISABLE_VERSION_HANDOFF: '1',
      ...(options.env ?? {}),
    };
  }

  spawn(args: string[], options: SpawnHapiOptions): HapiProcess {
    const home = options.home ?? this.newHome();
    this.homes.add(home);
    const child = spawn(this.bin, args, {
      cwd: options.cwd ?? home,
      env: this.env(options, home),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new HapiProcess(child, home, args);
    this.procs.push(proc);
    return proc;
  }

  /** Runs a command to completion (bounded) and returns its output. */
  async run(
    args: string[],
    options: SpawnHapiOptions & { timeoutMs?: number },
  ): Promise<{ exit: HapiExit; output: string }> {
    const proc = this.spawn(args, options);
    const timer = setTimeout(() => signalGroup(proc.pid, 'SIGKILL'), options.timeoutMs ?? 60_000);
    try {
      const exit = await proc.exited;
      return { exit, output: proc.output() };
    } finally {
      clearTimeout(timer);
    }
  }

  /** The runner's session children etc.: every live process of `home` other than `exclude`. */
  descendantsOf(home: string, exclude: number[] = []): number[] {
    return processesOfHome(home).filter((pid) => !exclude.includes(pid));
  }

  /**
   * SIGTERM to every spawned process group, then SIGKILL to every process (and group) still
   * carrying one of our HAPI_HOMEs, until none is left (bounded); then removes the temp dirs.
   */
  async cleanup(): Promise<void> {
    process.removeListener('exit', this.killAllNow);
    for (const proc of this.procs) if (!proc.exit) signalGroup(proc.pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    const graceUntil = Date.now() + 3_000;
    for (;;) {
      const live = [...this.homes].flatMap((home) => processesOfHome(home));
      const unreaped = this.procs.filter((p) => !p.exit);
      if (live.length === 0 && unreaped.length === 0) break;
      if (Date.now() > graceUntil) {
        for (const pid of live) signalGroup(pid, 'SIGKILL');
        for (const proc of unreaped) signalGroup(proc.pid, 'SIGKILL');
      }
      if (Date.now() > deadline) {
        process.stderr.write(`[hapi-cli] processes still alive after cleanup: ${live.join(', ')}\n`);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    rmSync(this.scratch, { recursive: true, force: true });
  }
}

// Observing what the CLI sends to an in-process hub -----------------------------------------

export interface CliTrafficEntry {
  at: number;
  socketId: string;
  auth: Record<string, unknown>;
  event: string;
  payload: unknown;
}

/**
 * Records every event every /cli socket of an in-process hub receives from its client (the real
 * CLI), every event the hub emits to it (`out:<event>`), plus `connect`/`disconnect` markers. Tests assert on it after observing the effect over
 * REST/SSE; `waitFor` polls with a deadline.
 */
export class CliTraffic {
  readonly entries: CliTrafficEntry[] = [];

  constructor(io: IoServer) {
    io.of('/cli').on('connection', (socket) => {
      const auth = { ...(socket.handshake.auth as Record<string, unknown>) };
      delete auth.token;
      const push = (event: string, payload: unknown) =>
        this.entries.push({ at: Date.now(), socketId: socket.id, auth, event, payload });
      push('connect', null);
      socket.onAny((event: string, ...args: unknown[]) => push(event, args[0]));
      // What the hub sent to the CLI, recorded as `out:<event>` (acks are not events).
      socket.onAnyOutgoing((event: string, ...args: unknown[]) => push(`out:${event}`, args[0]));
      socket.on('disconnect', (reason) => push('disconnect', reason));
    });
  }

  of(filter: { event?: string; sessionId?: string; machineId?: string; socketId?: string }): CliTrafficEntry[] {
    return this.entries.filter(
      (e) =>
        (filter.event === undefined || e.event === filter.event) &&
        (filter.socketId === undefined || e.socketId === filter.socketId) &&
        (filter.sessionId === undefined || e.auth.sessionId === filter.sessionId) &&
        (filter.machineId === undefined || e.auth.machineId === filter.machineId),
    );
  }

  async waitFor(predicate: (entries: CliTrafficEntry[]) => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    await pollUntil(() => predicate(this.entries), what, timeoutMs);
  }
}

// Polling ----------------------------------------------------------------------------------

/** Polls `probe` until it returns a truthy value (returned) or the deadline passes (throws). */
export async function pollUntil<T>(
  probe: () => T | Promise<T>,
  what: string,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** True when the process is alive (signal 0). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Existing file helper for readability in tests. */
export function fileExists(path: string): boolean {
  return existsSync(path);
}
