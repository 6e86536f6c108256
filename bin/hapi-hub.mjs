#!/usr/bin/env -S node --max-semi-space-size=16 --heap-growing-percent=25
// The `hapi-hub` command: the same start-up as `npm start` (scripts/start.mjs): TypeScript through
// tsx, no build step, and Node 24 provisioned first when this Node lacks node:sqlite. The V8
// flags on the first line are the hub's (src/config/node-flags.ts); `env -S` splits them.
import '../scripts/start.mjs';
