// `npm run bench -- [options]` (`--help` lists them): the upstream hub vs ours under the same load
// profiles, or `--report <saved run>` for the tables of a saved run; see src/bench/run.ts.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_USAGE, parseBenchArgv } from '../src/bench/options.js';
import { reportSavedBench, runBench } from '../src/bench/run.js';

// The hub's checkout (tools/loadtest/scripts → root): the bench builds and starts the hub from there
// and writes results/ and BENCHMARKS.md there.
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(BENCH_USAGE);
  process.exit(0);
}
let options: ReturnType<typeof parseBenchArgv>;
try {
  options = parseBenchArgv(argv);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${BENCH_USAGE}`);
  process.exit(2);
}
const env = {
  repoRoot,
  baseEnv: process.env,
  stdout: (text: string) => process.stdout.write(text),
  stderr: (text: string) => process.stderr.write(text),
};
const code = options.report
  ? reportSavedBench(options.report, options.writeBenchmarks, env)
  : await runBench(options, env);
process.exit(code);
