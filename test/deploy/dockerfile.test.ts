// deploy/Dockerfile and .dockerignore. No Docker engine is needed: the instructions are checked
// against the repository, and what the final stage runs is run here — `npm run build`, then the
// image's entry point (`node <HUB_NODE_FLAGS> dist/main.js serve`) with the image's environment as a 2-worker
// cluster on a real Redis, its HEALTHCHECK command, and SIGTERM.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HUB_NODE_FLAGS } from '../../src/config/node-flags.js';
import { startRedisServer, type RedisServerHandle } from '../helpers/redis-server.js';
import { REPO_ROOT } from './k8s-tools.js';
import { execForm, hubEnvDefaults, isKnownEnv, parseDockerfile, readRepoFile, type DockerStage } from './sources.js';

const dockerfile = parseDockerfile(readRepoFile('deploy/Dockerfile'));
const pkg = JSON.parse(readRepoFile('package.json')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const finalStage = dockerfile.stages.at(-1)!;

function args(stage: DockerStage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

function stageNamed(name: string): DockerStage {
  const stage = dockerfile.stages.find((s) => s.name === name);
  if (!stage) throw new Error(`no stage named ${name}`);
  return stage;
}

/** `ENV A=1 B=2` lines of a stage as a record. */
function envOf(stage: DockerStage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of args(stage, 'ENV')) for (const [, key, value] of line.matchAll(/(\w+)=(\S+)/g)) env[key!] = value!;
  return env;
}

/** COPY without --from: sources come from the build context. */
function contextCopies(): { stage: string; sources: string[] }[] {
  return dockerfile.stages.flatMap((stage) =>
    args(stage, 'COPY')
      .filter((a) => !a.includes('--from='))
      .map((a) => {
        const parts = a.split(' ').filter((p) => !p.startsWith('--'));
        return { stage: stage.name ?? stage.from, sources: parts.slice(0, -1) };
      }),
  );
}

/** .dockerignore semantics that matter here: glob patterns (*, **), matching a path or a parent. */
function dockerIgnored(path: string): boolean {
  const patterns = readRepoFile('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const toRegex = (pattern: string) =>
    new RegExp(
      `^${pattern
        .replace(/^\/+/, '')
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\//g, '(.*/)?')
        .replace(/\*\*/g, '.*')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')}$`,
    );
  const segments = path.split('/');
  const prefixes = segments.map((_, i) => segments.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const pattern of patterns) {
    const negate = pattern.startsWith('!');
    const regex = toRegex(negate ? pattern.slice(1) : pattern);
    if (prefixes.some((p) => regex.test(p))) ignored = !negate;
  }
  return ignored;
}

describe('deploy/Dockerfile (instructions)', () => {
  it('builds every stage from the Node 24 slim image', () => {
    expect(dockerfile.globalArgs.NODE_IMAGE).toBe('node:24-slim');
    expect(dockerfile.stages.map((s) => s.from)).toEqual(dockerfile.stages.map(() => '${NODE_IMAGE}'));
    expect(dockerfile.stages.map((s) => s.name)).toEqual(['build', 'prod-deps', 'runtime']);
  });

  it('names no frontend image to pull (`# syntax=`): building must work where nothing can be pulled', () => {
    // The first real `docker build` here failed on `# syntax=docker/dockerfile:1`: BuildKit pulls
    // that frontend from a registry before reading the file. The base images are the only images
    // a build may need (scripts/base-images.sh provides them where pulling is impossible).
    expect(
      readRepoFile('deploy/Dockerfile')
        .split('\n')
        .filter((l) => /^#\s*syntax\s*=/i.test(l)),
    ).toEqual([]);
  });

  it('builds with npm ci + npm run build, and the final stage gets production dependencies only', () => {
    const build = stageNamed('build');
    expect(args(build, 'RUN')).toEqual([expect.stringMatching(/^npm ci\b/), 'npm run build']);
    expect(args(stageNamed('prod-deps'), 'RUN')).toEqual([expect.stringMatching(/^npm ci --omit=dev\b/)]);
    const copies = args(finalStage, 'COPY');
    expect(copies).toContain('--from=prod-deps /app/node_modules ./node_modules');
    expect(copies).toContain('--from=build /app/dist ./dist');
    // dist/ is ESM only because package.json says "type": "module".
    expect(copies).toContain('package.json ./');
    expect((pkg as { type?: string }).type).toBe('module');
    // Nothing in the final stage installs npm packages (no devDependencies can sneak in).
    expect(args(finalStage, 'RUN').filter((r) => /\bnpm\b/.test(r))).toEqual([]);
  });

  it('runs as a numeric non-root user under tini, with the same command as `npm run start:prod`', () => {
    const user = args(finalStage, 'USER').at(-1)!;
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(':')[0])).toBeGreaterThan(0);
    expect(args(finalStage, 'RUN').join(' ')).toMatch(/apt-get install .*\btini\b/);
    const entrypoint = execForm(args(finalStage, 'ENTRYPOINT').at(-1)!);
    const cmd = execForm(args(finalStage, 'CMD').at(-1)!);
    expect(entrypoint.slice(0, 2)).toEqual(['/usr/bin/tini', '--']);
    expect([...entrypoint.slice(2), ...cmd]).toEqual(pkg.scripts['start:prod']!.split(' '));
    expect(pkg.scripts['start:prod']).toBe(['node', ...HUB_NODE_FLAGS, 'dist/main.js serve'].join(' '));
    // `npm start` keeps running the sources through tsx (scripts/start.mjs, on a Node with node:sqlite).
    expect(pkg.scripts.start).toBe(['node', ...HUB_NODE_FLAGS, 'scripts/start.mjs serve'].join(' '));
  });

  it('listens on 0.0.0.0:3006, exposes 3006, and sets only known variables', () => {
    const env = envOf(finalStage);
    expect(env.HAPI_LISTEN_HOST).toBe('0.0.0.0');
    expect(Number(env.HAPI_LISTEN_PORT)).toBe(hubEnvDefaults().HAPI_LISTEN_PORT);
    expect(args(finalStage, 'EXPOSE')).toEqual([env.HAPI_LISTEN_PORT]);
    expect(Object.keys(env).filter((k) => !isKnownEnv(k))).toEqual([]);
  });

  it("keeps the sqlite engine's data in /data, a 0700 directory of the hub's user (the volume to mount)", () => {
    expect(envOf(finalStage).HAPI_DATA_DIR).toBe('/data');
    const [uid, gid = uid] = args(finalStage, 'USER').at(-1)!.split(':');
    expect(args(finalStage, 'RUN')).toContain(`install -d -o ${uid} -g ${gid} -m 0700 /data`);
  });

  it('has a HEALTHCHECK on /health of the configured port', () => {
    const [healthcheck] = args(finalStage, 'HEALTHCHECK');
    expect(healthcheck).toMatch(/--interval=\d+s/);
    expect(healthcheck).toContain('/health');
    expect(healthcheck).toContain('HAPI_LISTEN_PORT');
  });

  it('copies only what exists and what .dockerignore lets into the context', () => {
    const sources = contextCopies().flatMap((c) => c.sources);
    expect(sources.length).toBeGreaterThan(0);
    expect(sources.filter((s) => !existsSync(join(REPO_ROOT, s)))).toEqual([]);
    expect(sources.filter((s) => dockerIgnored(s.replace(/\/$/, '')))).toEqual([]);
    // Host artifacts and secrets never reach the daemon.
    for (const path of ['node_modules', 'dist', '.git', '.env', '.cache', 'test'])
      expect(dockerIgnored(path), path).toBe(true);
  });

  it('the build step copies every script `npm run build` calls', () => {
    const copied = contextCopies()
      .filter((c) => c.stage === 'build')
      .flatMap((c) => c.sources);
    for (const script of pkg.scripts.build!.matchAll(/node (\S+)/g)) expect(copied).toContain(script[1]);
  });
});

describe('deploy/Dockerfile (what the final stage runs)', () => {
  let redis: RedisServerHandle | undefined;
  let hub: ChildProcess | undefined;
  let port = 0;
  let output = '';

  beforeAll(async () => {
    // The Dockerfile's build step, verbatim.
    const build = spawnSync('npm', ['run', 'build'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
    expect(build.status, `npm run build:\n${build.stdout}\n${build.stderr}`).toBe(0);
    redis = await startRedisServer();
    port = await freePort();
  }, 330_000);

  afterAll(async () => {
    if (hub?.pid !== undefined && hub.exitCode === null && hub.signalCode === null) {
      const exited = new Promise((r) => hub!.once('exit', r));
      // The whole process group: a failed test must not leave the workers behind.
      process.kill(-hub.pid, 'SIGKILL');
      await exited;
    }
    await redis?.stop();
  });

  it('dist/ needs no package outside `dependencies` (the final stage has no devDependencies)', () => {
    const imported = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.js')) {
          const code = readFileSync(path, 'utf8');
          for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"'./][^"']*)["']/g))
            imported.add(m[1]!);
        }
      }
    };
    walk(join(REPO_ROOT, 'dist'));
    const packages = [...imported]
      .filter((s) => !s.startsWith('node:') && !builtinModules.includes(s))
      .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
    expect(packages.length).toBeGreaterThan(0);
    expect([...new Set(packages)].filter((p) => !(p in pkg.dependencies))).toEqual([]);
  });

  it('dist/ carries the non-TypeScript assets of src/ (the Redis engine reads its Lua files at run time)', () => {
    const assets: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (!/\.(ts|tsx)$/.test(entry.name)) assets.push(relative(join(REPO_ROOT, 'src'), path));
      }
    };
    walk(join(REPO_ROOT, 'src'));
    expect(assets.filter((a) => !existsSync(join(REPO_ROOT, 'dist', a)))).toEqual([]);
  });

  it('`node dist/main.js serve` with the image environment runs a 2-worker cluster on Redis, passes the HEALTHCHECK, and exits 0 on SIGTERM within the drain timeout', async () => {
    const imageEnv = envOf(finalStage);
    const drainTimeoutMs = 10_000;
    hub = spawn(process.execPath, [...HUB_NODE_FLAGS, 'dist/main.js', 'serve'], {
      cwd: REPO_ROOT,
      // Own process group (the primary and its workers), for cleanup after a failure.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        ...imageEnv,
        // Loopback only in tests; the image's 0.0.0.0 is checked above.
        HAPI_LISTEN_HOST: '127.0.0.1',
        HAPI_LISTEN_PORT: String(port),
        HAPI_WORKERS: '2',
        REDIS_URL: redis!.url,
        HAPI_DRAIN_TIMEOUT_MS: String(drainTimeoutMs),
        LOG_LEVEL: 'warn',
      },
    });
    hub.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    hub.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));

    const ready = await pollJson(`http://127.0.0.1:${port}/ready`, 60_000, () => `hub output:\n${output}`);
    expect(ready).toEqual({ ready: true, engine: 'redis' });
    // The generated token is printed once (no CLI_API_TOKEN in the image environment).
    expect(output.match(/CLI_API_TOKEN \(generated, keep it safe\): \S+/g)?.length).toBe(1);

    const [healthcheck] = args(finalStage, 'HEALTHCHECK');
    const command = execForm(healthcheck!.slice(healthcheck!.indexOf('CMD ') + 4));
    expect(command[0]).toBe('node');
    const check = spawnSync(process.execPath, command.slice(1), {
      env: { PATH: process.env.PATH, HAPI_LISTEN_PORT: String(port) },
      timeout: 10_000,
    });
    expect(check.status).toBe(0);

    const started = Date.now();
    const exited = new Promise<number | null>((resolve) => hub!.once('exit', (code) => resolve(code)));
    hub.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(drainTimeoutMs + 2_000);
    // The HEALTHCHECK fails once the hub is gone.
    expect(
      spawnSync(process.execPath, command.slice(1), {
        env: { PATH: process.env.PATH, HAPI_LISTEN_PORT: String(port) },
        timeout: 10_000,
      }).status,
    ).toBe(1);
  }, 120_000);
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** GETs url until it answers 200 (bounded), returning the JSON body. */
async function pollJson(url: string, timeoutMs: number, context: () => string): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      const text = await response.text();
      if (response.status === 200) return JSON.parse(text);
      last = `${response.status} ${text}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not 200 within ${timeoutMs} ms (last: ${last})\n${context()}`);
}
