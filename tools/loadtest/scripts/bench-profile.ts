// `npm run bench:profile -- <file.cpuprofile | dir> […]`: where a hub's CPU time went (self time
// by module and function, inclusive time of our own functions). See src/bench/cpuprofile.ts.
import { statSync } from 'node:fs';
import { formatProfileSummary, profileFiles, summariseProfiles } from '../src/bench/cpuprofile.js';

const USAGE = 'usage: npm run bench:profile -- <file.cpuprofile | directory> […]\n';
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (args.length === 0) {
  process.stderr.write(USAGE);
  process.exit(2);
}
const files = args.flatMap((arg) => (statSync(arg).isDirectory() ? profileFiles(arg) : [arg]));
process.stdout.write(`${formatProfileSummary(args.join(' '), summariseProfiles(files, 25))}\n`);
