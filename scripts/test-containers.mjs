// `npm test`'s container preparation (used by scripts/run-tests.mjs): a Docker engine with
// Compose v2 where the machine allows it (scripts/container-engine.sh: install when root with
// apt-get, start dockerd when none answers), and the base images the project's Dockerfile and
// compose file name (scripts/base-images.sh: pulled, or built as local stand-ins). Each step
// prints its time; when one fails, the container tests skip and say why, the rest of the suite
// runs as before. HAPI_CONTAINERS=off skips all of it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

function step(root, label, script, args) {
  const started = Date.now();
  const result = spawnSync('bash', [join(root, 'scripts', script), ...args], { stdio: 'inherit', cwd: root });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `[test] ${label}: ${result.status === 0 ? 'ok' : `failed (${result.status ?? result.signal})`} in ${seconds} s`,
  );
  return result.status === 0;
}

/** Prepares the engine and images; returns a function that stops what was started here. */
export function prepareContainers(root) {
  if (process.env.HAPI_CONTAINERS === 'off') {
    console.log('[test] HAPI_CONTAINERS=off: no container engine; container tests skip');
    return () => undefined;
  }
  const ready =
    step(root, 'container engine install', 'container-engine.sh', ['install']) &&
    step(root, 'container engine start', 'container-engine.sh', ['start']) &&
    step(root, 'container engine check', 'container-engine.sh', ['status']) &&
    step(root, 'base images', 'base-images.sh', []);
  if (!ready) console.log('[test] no usable container engine: container tests will skip (see the lines above)');
  // `stop` ends only a dockerd that `start` launched (it records its pid); an engine that was
  // already running stays. An interrupted run (Ctrl-C) leaves its dockerd running; the next run
  // uses it and stops it at its end (the pid file is still there).
  return () => step(root, 'container engine stop', 'container-engine.sh', ['stop']);
}
