// Tenant A's flood in a process of its own (so its client-side work cannot delay tenant B's
// measurements in the test process). Started by startFloodProcess (noisy-neighbour.ts): argv[2]
// is JSON {url, token, ns, options}; prints `limited` at the first refusal; on `stop` (stdin)
// prints the tally as one JSON line and exits.
import { createInterface } from 'node:readline';
import { type HubProcess, startFlood } from './noisy-neighbour.js';

const { url, token, ns, options } = JSON.parse(process.argv[2] ?? '{}') as {
  url: string;
  token: string;
  ns: string;
  options: Parameters<typeof startFlood>[2];
};
const hub = { url, token } as HubProcess;
const flood = await startFlood(hub, ns, options);
process.stdout.write('started\n');
void flood.limited.then(() => process.stdout.write('limited\n'));
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() !== 'stop') return;
  void flood.stop().then((tally) => {
    process.stdout.write(`${JSON.stringify(tally)}\n`, () => process.exit(0));
  });
});
