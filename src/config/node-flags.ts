// V8 flags every hub process runs with: on the command line of each launcher (package.json
// scripts, bin/hapi-hub.mjs, deploy/Dockerfile, the bench), and added to cluster workers'
// exec arguments. test/config/node-flags.test.ts keeps the launchers in line with this list.
//
// The young generation (two semi-spaces) grows with a process's allocation rate — in Node 24 up
// to 2 × 64 MiB on a hub answering thousands of keep-alives a second — and is not given back. On
// a hub that is most of what the capacity bench counted as memory "per idle CLI". Nearly all of
// a hub's young objects are dead by the next scavenge, whose cost follows the survivors, not the
// space's size: a 16 MiB semi-space means more scavenges at about the same total CPU (BENCHMARKS.md,
// "Young generation").

export const HUB_MAX_SEMI_SPACE_MB = 16;

export const HUB_NODE_FLAGS: readonly string[] = [`--max-semi-space-size=${HUB_MAX_SEMI_SPACE_MB}`];

/** `execArgv` with the hub's flags added, unless the operator already chose a semi-space size. */
export function withHubNodeFlags(execArgv: readonly string[]): string[] {
  const chosen = execArgv.some((arg) => arg.includes('semi-space-size'));
  return chosen ? [...execArgv] : [...execArgv, ...HUB_NODE_FLAGS];
}
