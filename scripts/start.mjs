#!/usr/bin/env node
// `npm start` (= `hapi-hub serve`) and `npm run hapi-hub -- …`: src/main.ts through tsx, on a
// Node with node:sqlite (the default engine). An older Node gets Node 24 provisioned into
// .cache/node24 first and this script runs again on it (node-runtime.mjs); on a recent Node the
// hub runs in this very process, so signals reach it directly and cluster workers fork this script.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNodeSqlite } from './node-runtime.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
await ensureNodeSqlite(root, '[start]', fileURLToPath(import.meta.url));
// The same TypeScript loader as `node --import tsx`.
await import('tsx');
await import('../src/main.ts');
