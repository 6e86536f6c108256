#!/usr/bin/env node
// `npm run build` step 2: tsc emits only JavaScript, but the Redis engine reads its Lua scripts
// from files next to its module at run time (new URL('x.lua', import.meta.url)), so every
// non-TypeScript source asset under src/ is copied to the same place under dist/.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src');
const outDir = resolve(root, process.argv[2] ?? 'dist');
const ASSET_EXTENSIONS = ['.lua'];

let copied = 0;
function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (ASSET_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) {
      const target = join(outDir, relative(srcDir, path));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(path, target);
      copied += 1;
    }
  }
}
walk(srcDir);
console.log(`copied ${copied} asset file(s) from src/ to ${relative(root, outDir) || '.'}/`);
