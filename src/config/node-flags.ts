// V8 flags every hub process runs with: on the command line of each launcher (package.json
// scripts, bin/hapi-hub.mjs, deploy/Dockerfile, the bench), and added to cluster workers'
// exec arguments. test/config/node-flags.test.ts keeps the launchers in line with this list.
//
// A hub holding idle CLIs allocates steadily (thousands of keep-alives a second), and V8 sizes
// its heap for throughput, not for that (BENCHMARKS.md, "Young generation" and "Old generation"):
// - The young generation (two semi-spaces) grows with the allocation rate — in Node 24 up to
//   2 × 64 MiB — and is not given back. Nearly all of a hub's young objects are dead by the next
//   scavenge, whose cost follows the survivors, not the space's size: 16 MiB means more
//   scavenges at about the same total CPU.
// - After each full collection the old generation may grow to up to 4 × what survived before
//   the next one, and pages once committed stay resident. What an idle CLI promotes each beat
//   is garbage by the next, so most of that headroom filled with garbage: 1.25 × keeps it to a
//   quarter of the live heap, at a full (mostly concurrent) collection every 5–8 s with 10 000
//   idle CLIs, < 10 ms of main-thread time each. Its cost follows the live heap: it shows only
//   where the heap holds the data (the memory engine under message load, a quarter fewer
//   messages/s), not on Redis or sqlite.

export const HUB_MAX_SEMI_SPACE_MB = 16;
export const HUB_HEAP_GROWING_PERCENT = 25;

interface HubNodeFlag {
  flag: string;
  /** Matches an operator's own choice of the same setting, which is then kept. */
  chosenBy: RegExp;
}

const HUB_FLAG_CHOICES: readonly HubNodeFlag[] = [
  { flag: `--max-semi-space-size=${HUB_MAX_SEMI_SPACE_MB}`, chosenBy: /semi[-_]space[-_]size/ },
  { flag: `--heap-growing-percent=${HUB_HEAP_GROWING_PERCENT}`, chosenBy: /heap[-_]growing[-_]percent/ },
];

export const HUB_NODE_FLAGS: readonly string[] = HUB_FLAG_CHOICES.map((choice) => choice.flag);

/** `execArgv` with each of the hub's flags added, unless the operator already chose that setting. */
export function withHubNodeFlags(execArgv: readonly string[]): string[] {
  const added = HUB_FLAG_CHOICES.filter((choice) => !execArgv.some((arg) => choice.chosenBy.test(arg)));
  return [...execArgv, ...added.map((choice) => choice.flag)];
}
