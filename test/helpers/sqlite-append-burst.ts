// A write burst on the sqlite engine for the kill -9 test (test/engine/sqlite-crash.test.ts):
// appends messages (each with its event) to one session as fast as it can and prints
// `acked <seq>` after each append has committed, until killed or `limit` is reached.
// Run as `node --import tsx <this file> <json args>`.
import { randomUUID } from 'node:crypto';
import { createSqliteEngine } from '../../src/engine/sqlite/engine.js';

export interface BurstTask {
  file: string;
  ns: string;
  sessionId: string;
  limit: number;
}

const task = JSON.parse(process.argv[2] ?? '{}') as BurstTask;
const engine = createSqliteEngine(task.file, {
  eventLogMaxEvents: 1_000_000,
  eventLogMaxBytes: 1 << 30,
  messageHistoryLimit: 0,
});
for (let i = 0; i < task.limit; i += 1) {
  const result = await engine.messages.append(task.ns, task.sessionId, {
    id: randomUUID(),
    content: { i, text: 'x'.repeat(500) },
    createdAt: i,
    invokedAt: i,
    event: { before: '{"seq":', after: '}' },
  });
  if (!result.ok) throw new Error(`append failed: ${result.reason}`);
  process.stdout.write(`acked ${result.message.seq}\n`);
}
await engine.close();
