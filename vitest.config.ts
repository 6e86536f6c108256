import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The hub's suites, and those of the workspace packages beside it (tools/loadtest).
    include: ['test/**/*.test.ts', 'tools/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites spawn real servers (hubs, redis-server, haproxy); keep the 2-core machine sane.
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ['default'],
    // Fails the run if a test touched ~/.hapi-hub (test hubs use memory or a temp data dir).
    globalSetup: ['test/global/default-data-dir.ts'],
  },
});
