// A second process on the sqlite engine's file (test/engine/sqlite-processes.test.ts): opens the
// database given in argv, appends messages to one session and sweeps overdue presence entries,
// then prints what it got as one JSON line. Run as `node --import tsx <this file> <json args>`;
// it prints `ready` once the file is open and starts when a line arrives on stdin, so the test
// can start every process's work at once.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createSqliteEngine } from '../../src/engine/sqlite/engine.js';

export interface ProcessTask {
  file: string;
  ns: string;
  sessionId: string;
  appends: number;
  sweepNow: number;
  sweepLimit: number;
}

export interface ProcessOutcome {
  seqs: number[];
  expired: string[];
}

const task = JSON.parse(process.argv[2] ?? '{}') as ProcessTask;
const engine = createSqliteEngine(task.file, {
  eventLogMaxEvents: 1024,
  eventLogMaxBytes: 8 << 20,
  messageHistoryLimit: 0,
});
const outcome: ProcessOutcome = { seqs: [], expired: [] };
process.stdout.write('ready\n');
await once(process.stdin, 'data');
process.stdin.destroy();
for (let i = 0; i < task.appends; i += 1) {
  const result = await engine.messages.append(task.ns, task.sessionId, {
    id: randomUUID(),
    content: { pid: process.pid, i },
    createdAt: i,
    invokedAt: i,
    event: { before: '{"seq":', after: '}' },
  });
  if (!result.ok) throw new Error(`append failed: ${result.reason}`);
  outcome.seqs.push(result.message.seq);
  // Interleave sweeps with appends so the processes contend for the write lock throughout.
  for (const entry of await engine.presence.expireOverdue(task.sweepNow, task.sweepLimit))
    outcome.expired.push(entry.id);
}
for (let round = 0; round < 10_000; round += 1) {
  const batch = await engine.presence.expireOverdue(task.sweepNow, task.sweepLimit);
  if (batch.length === 0) break;
  for (const entry of batch) outcome.expired.push(entry.id);
}
await engine.close();
process.stdout.write(`${JSON.stringify(outcome)}\n`);
