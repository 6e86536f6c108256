// Vitest global setup: no test may touch the default data dir (~/.hapi-hub). Every test hub names
// its engine (HAPI_ENGINE=memory) or a temp HAPI_DATA_DIR; a helper that forgets would make the
// suite write into the developer's own hub. The run fails when the directory appeared, or its
// database changed, while the tests ran (a real hub on the default data dir at the same time
// would trip it too: stop it, or give it a HAPI_DATA_DIR, while testing).
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

function snapshot(dir: string): string {
  if (!existsSync(dir)) return 'absent';
  const db = join(dir, 'hub.db');
  if (!existsSync(db)) return 'present, no hub.db';
  const stat = statSync(db);
  return `hub.db ${stat.size} bytes, modified ${stat.mtime.toISOString()}`;
}

export default function setup(): () => void {
  const dir = join(homedir(), '.hapi-hub');
  const before = snapshot(dir);
  return () => {
    const after = snapshot(dir);
    if (after !== before)
      throw new Error(`a test touched the default data dir ${dir} (before: ${before}; after: ${after})`);
  };
}
