// Command line: `serve` (default), `ns` (namespace admin), `web install` (fetch the upstream web app), `import` (an upstream hub's hapi.db). The load generator is `npm run loadtest` (tools/loadtest).
import { ConfigError, loadConfig, type HubConfig } from './config.js';
import { resolve } from 'node:path';
import { runWebCommand } from './admin/web-install.js';
import { runNamespaceCommand } from './ns-admin.js';
import { serve } from './hub/serve.js';

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
    case 'web':
      return runWebCommand(
        rest,
        { to: config.webDir ?? resolve('hapi-web') },
        (line) => process.stdout.write(`${line}\n`),
        (line) => process.stderr.write(`${line}\n`),
      );
    case 'import': {
      // Loaded on demand: it needs node:sqlite and zstd (Node 22.15+), which `serve` does not.
      const loaded = await import('./admin/import/command.js').catch((error: unknown) => error);
      if (loaded instanceof Error) {
        process.stderr.write(
          `import needs Node 22.15 or newer (node:sqlite, zstd); this is Node ${process.versions.node}: ${loaded.message}\n`,
        );
        return 1;
      }
      return (loaded as typeof import('./admin/import/command.js')).runImportCommand(
        config,
        rest,
        (line) => process.stdout.write(`${line}\n`),
        (text) => process.stderr.write(text),
        process.stderr.isTTY === true,
      );
    }
    case 'loadtest':
      // The load generator is a dev tool beside the hub (tools/loadtest), not part of it or its image.
      process.stderr.write('hapi-hub loadtest moved: run `npm run loadtest -- …` in a checkout (tools/loadtest)\n');
      return 2;
    default:
      process.stderr.write(
        `unknown command: ${command}\nusage: hapi-hub [serve | ns ... | web install ... | import --from <hapi.db>]\n`,
      );
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== null) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
