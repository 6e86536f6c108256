// `npm run bench -- [--quick] [--targets upstream,memory,redis,redis2] [--profiles ingest,fanout,capacity,rpc]
//                   [--cpu-prof] [--write-benchmarks] [--capacity-levels 1000,3000] [--max-minutes N]`
//   or `npm run bench -- --report results/bench-<stamp>.json [--write-benchmarks]` (tables of a saved run)
// Compares the upstream hub with ours under the same load profiles; see src/bench/run.ts.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBenchArgv } from '../src/bench/options.js';
import { reportSavedBench, runBench } from '../src/bench/run.js';

// The hub's checkout (tools/loadtest/scripts → root): the bench builds and starts the hub from there
// and writes results/ and BENCHMARKS.md there.
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

let options;
try {
  options = parseBenchArgv(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
const env = {
  repoRoot,
  baseEnv: process.env,
  stdout: (text: string) => process.stdout.write(text),
  stderr: (text: string) => process.stderr.write(text),
};
const code = options.report ? reportSavedBench(options.report, options.writeBenchmarks, env) : await runBench(options, env);
process.exit(code);
