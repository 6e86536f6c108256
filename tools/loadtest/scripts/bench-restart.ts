// `npm run bench:restart -- [--targets sqlite,upstream] [--messages 100000] [--sessions 10] [--restarts 3]`:
// restart time of a persistent hub holding N messages (src/bench/restart-time.ts).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgv } from '../src/options.js';
import { RestartOptionsSchema, runRestartBench } from '../src/bench/restart-time.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const options = RestartOptionsSchema.parse(parseArgv(process.argv.slice(2)));
const samples = await runRestartBench(options, {
  repoRoot,
  baseEnv: process.env,
  log: (line) => process.stderr.write(`[restart] ${line}\n`),
});
process.stdout.write('\ntarget    after    /health ms  first page ms  load (1 min)\n');
for (const s of samples)
  process.stdout.write(
    `${s.target.padEnd(9)} ${s.after.padEnd(8)} ${String(s.healthMs).padStart(10)}  ${String(s.firstPageMs).padStart(13)}  ${s.loadAverage[0]}\n`,
  );
process.exit(0);
