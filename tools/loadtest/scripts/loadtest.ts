// `npm run loadtest -- [options]` (`--help` lists them): drive a running hub with simulated CLIs,
// runners and web subscribers; see src/run.ts. Defaults come from the hub's own environment, read
// through the hub's config (the only reader of it), so a hub started from the same shell needs no flags.
import { ConfigError, loadConfig } from '../../../src/config.js';
import { runLoadtestCommand } from '../src/command.js';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
// A hub listening on every interface is reached on loopback.
const host = config.listenHost === '0.0.0.0' ? '127.0.0.1' : config.listenHost === '::' ? '::1' : config.listenHost;
const code = await runLoadtestCommand(
  process.argv.slice(2),
  { token: config.cliApiToken, url: `http://${host.includes(':') ? `[${host}]` : host}:${config.listenPort}` },
  { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) },
);
process.exit(code);
