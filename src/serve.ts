// `hapi-hub serve`: one worker process (the cluster primary forks several of these).
import type { HubConfig } from './config.js';
import { createEngine } from './engine/index.js';
import { createHub, type Hub } from './hub.js';
import { createLogger, type Logger } from './ops/logger.js';

export async function serveWorker(config: HubConfig, log: Logger = createLogger(config.logLevel)): Promise<Hub> {
  const engine = await createEngine(config);
  if (engine.kind === 'memory') {
    log.warn('memory engine: data is kept in this process only — not persisted, not shared between workers; set REDIS_URL for a cluster');
  }
  const hub = await createHub({ config, engine, log });
  const port = await hub.listen();
  if (hub.services.auth.generatedCliApiToken) {
    // Printed once, when this hub created the token; later starts reuse it silently.
    process.stdout.write(`\nCLI_API_TOKEN (generated, keep it safe): ${hub.services.auth.hubToken}\n\n`);
  }
  log.info({ host: config.listenHost, port, engine: engine.kind }, 'hub listening');
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    void hub
      .close()
      .then(() => engine.close())
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  return hub;
}
