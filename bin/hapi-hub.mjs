#!/usr/bin/env node
// The `hapi-hub` command: the same start-up as `npm start` (scripts/start.mjs): TypeScript through
// tsx, no build step, and Node 24 provisioned first when this Node lacks node:sqlite.
import '../scripts/start.mjs';
