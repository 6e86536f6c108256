// The Docker engine for tests: whether one answers (and why not), and the docker CLI run without
// blocking the event loop (sockets under test keep working while a container is killed).
// `npm test` starts an engine where the machine allows it (scripts/container-engine.sh); tests
// that need one skip with the reason printed once when none answers.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export type EngineStatus = { available: true; version: string; compose: string } | { available: false; reason: string };

let cached: EngineStatus | undefined;

/** Whether `docker info` and `docker compose version` answer; cached for the process. */
export function containerEngine(): EngineStatus {
  cached ??= probeContainerEngine();
  return cached;
}

function probeContainerEngine(): EngineStatus {
  if (process.env.HAPI_CONTAINERS === 'off') return { available: false, reason: 'HAPI_CONTAINERS=off' };
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 15_000 });
  if (info.error) return { available: false, reason: `no docker CLI (${info.error.message})` };
  if (info.status !== 0)
    return { available: false, reason: `no Docker engine answers: ${firstLine(info.stderr || info.stdout)}` };
  const compose = spawnSync('docker', ['compose', 'version', '--short'], { encoding: 'utf8', timeout: 15_000 });
  if (compose.status !== 0)
    return {
      available: false,
      reason: `Docker engine ${info.stdout.trim()} answers but Compose v2 does not: ${firstLine(compose.stderr)}`,
    };
  return { available: true, version: info.stdout.trim(), compose: compose.stdout.trim() };
}

/** True when `name` is an image the engine has locally. */
export function hasImage(name: string): boolean {
  return spawnSync('docker', ['image', 'inspect', name], { stdio: 'ignore', timeout: 15_000 }).status === 0;
}

/**
 * scripts/base-images.sh: the base images deploy/Dockerfile and docker-compose.yml name, pulled or
 * built as stand-ins where missing (cheap when they are present). Throws with its output on failure.
 */
export function ensureBaseImages(): void {
  const result = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'base-images.sh')], {
    encoding: 'utf8',
    timeout: 15 * 60_000,
    cwd: REPO_ROOT,
  });
  if (result.status !== 0)
    throw new Error(
      `scripts/base-images.sh failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`,
    );
}

export interface DockerResult {
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Runs `docker …` asynchronously; resolves with its exit code and output (never rejects on a non-zero exit). */
export function docker(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<DockerResult> {
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn('docker', args, {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[test] docker ${args.join(' ')} killed after ${options.timeoutMs ?? 120_000} ms`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 120_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, durationMs: Date.now() - started });
    });
  });
}

/** `docker …` that must succeed: resolves with stdout, rejects with the command and its stderr. */
export async function dockerOk(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<string> {
  const result = await docker(args, options);
  if (result.code !== 0)
    throw new Error(
      `docker ${args.join(' ')} exited ${result.code}:\n${result.stderr.slice(-4000)}\n${result.stdout.slice(-2000)}`,
    );
  return result.stdout;
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}
