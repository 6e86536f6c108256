// `npm run loadtest -- …`: parse options, run, print the table (or JSON), write --out / --chart.
import { writeFileSync } from 'node:fs';
import { renderChart } from './chart.js';
import { LOADTEST_USAGE, OptionsError, parseArgv, parseLoadtestOptions } from './options.js';
import { formatReport } from './report.js';
import { runLoadtest } from './run.js';

export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/**
 * `defaults` come from the hub's configuration (e.g. its CLI_API_TOKEN and port), so a load test
 * against a local hub started from the same environment needs no flags.
 */
export async function runLoadtestCommand(
  argv: readonly string[],
  defaults: { token?: string | undefined; url?: string },
  io: CommandIo,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(LOADTEST_USAGE);
    return 0;
  }
  let options: ReturnType<typeof parseLoadtestOptions>;
  try {
    const raw = parseArgv(argv);
    options = parseLoadtestOptions({
      ...(defaults.token !== undefined ? { token: defaults.token } : {}),
      ...(defaults.url !== undefined ? { url: defaults.url } : {}),
      ...raw,
    });
  } catch (error) {
    if (error instanceof OptionsError) {
      io.stderr(`${error.message}\n\n${LOADTEST_USAGE}`);
      return 2;
    }
    throw error;
  }
  const result = await runLoadtest(options, { progress: (line) => io.stderr(`${line}\n`) });
  if (options.out) writeFileSync(options.out, `${JSON.stringify(result, null, 2)}\n`);
  if (options.chart) writeFileSync(options.chart, renderChart(result));
  if (options.json) io.stdout(`${JSON.stringify(result)}\n`);
  else io.stdout(`${formatReport(result)}\n`);
  return result.aborted === null ? 0 : 1;
}
