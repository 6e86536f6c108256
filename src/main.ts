// Command line: `serve` (default), `ns` (namespace admin), `loadtest` (load generator, src/loadtest).
import { ConfigError, loadConfig, type HubConfig } from './config.js';
import { runNamespaceCommand } from './ns-admin.js';
import { serve } from './serve.js';

async function main(argv: string[]): Promise<number | null> {
  let config: HubConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const [command = 'serve', ...rest] = argv;
  switch (command) {
    case 'serve':
      try {
        return await serve(config);
      } catch (error) {
        // e.g. HAPI_WORKERS > 1 without REDIS_URL: refuse with the message, not a stack trace.
        if (error instanceof ConfigError) {
          process.stderr.write(`${error.message}\n`);
          return 1;
        }
        throw error;
      }
    case 'ns':
      return runNamespaceCommand(config, rest, (line) => process.stdout.write(`${line}\n`));
    case 'loadtest': {
      // Loaded on demand so `serve` never pulls in the load generator and its client libraries.
      const { runLoadtestCommand } = await import('./loadtest/command.js');
      const host = config.listenHost === '0.0.0.0' ? '127.0.0.1' : config.listenHost === '::' ? '::1' : config.listenHost;
      // Defaults from the hub's own environment: a hub started from the same shell needs no flags.
      return runLoadtestCommand(
        rest,
        { token: config.cliApiToken, url: `http://${host.includes(':') ? `[${host}]` : host}:${config.listenPort}` },
        { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) },
      );
    }
    default:
      process.stderr.write(`unknown command: ${command}\nusage: hapi-hub [serve | ns ... | loadtest ...]\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== null) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`fatal: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  },
);
