// `npm run bench:redis-cost -- [--workers 1,2] [--idle-clis 1000] [--alive-ms 2000] [--window-seconds 20]
// [--message-clis 10] [--message-rate 200]`: Redis commands and CPU per keep-alive and per CLI
// message (src/bench/redis-cost.ts), printed as a markdown table.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgv } from '../src/options.js';
import { formatUnitCosts, RedisCostOptionsSchema, runRedisCost } from '../src/bench/redis-cost.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const options = RedisCostOptionsSchema.parse(parseArgv(process.argv.slice(2)));
const costs = await runRedisCost(options, {
  repoRoot,
  baseEnv: process.env,
  log: (line) => process.stderr.write(`[redis-cost] ${line}\n`),
});
process.stdout.write(`\n${formatUnitCosts(costs)}\n`);
process.exit(0);
