// kill -9 during a write burst loses no acked write: WAL with synchronous=FULL commits each
// primitive durably before it resolves. A real process appends and reports each acked seq; the
// test kills it mid-burst with SIGKILL, reopens the file and finds every acked message, its
// event, and no gap.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteEngine } from '../../src/engine/sqlite/engine.js';
import type { BurstTask } from '../helpers/sqlite-append-burst.js';
import { createSession, DEFAULT_OPTIONS, uniqueNamespace } from './contract/harness.js';

const BURST_FILE = join(import.meta.dirname, '..', 'helpers', 'sqlite-append-burst.ts');
const dir = mkdtempSync(join(tmpdir(), 'hapi-sqlite-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Acks seen before the kill; the burst is far longer than that, so the kill lands mid-burst. */
const ACKS_BEFORE_KILL = 300;

describe('sqlite engine under kill -9', () => {
  it('keeps every acked message and its event when the writer is killed mid-burst', async () => {
    const file = join(dir, 'crash.db');
    const ns = uniqueNamespace();
    const setup = createSqliteEngine(file, DEFAULT_OPTIONS);
    const session = await createSession(setup, ns);
    await setup.close();

    const task: BurstTask = { file, ns, sessionId: session.id, limit: 1_000_000 };
    const child = spawn(process.execPath, ['--import', 'tsx', BURST_FILE, JSON.stringify(task)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 60_000,
    });
    const exited = once(child, 'exit');
    const acked: number[] = [];
    for await (const line of createInterface({ input: child.stdout })) {
      acked.push(Number(line.replace('acked ', '')));
      if (acked.length === ACKS_BEFORE_KILL) child.kill('SIGKILL');
    }
    const [, signal] = await exited;
    expect(signal).toBe('SIGKILL');
    expect(acked.length).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);
    expect(acked).toEqual(Array.from({ length: acked.length }, (_, i) => i + 1));

    const reopened = createSqliteEngine(file, {
      ...DEFAULT_OPTIONS,
      eventLogMaxEvents: 1_000_000,
      eventLogMaxBytes: 1 << 30,
    });
    try {
      const stored = await reopened.messages.listAfterSeq(ns, session.id, 0, 1_000_000);
      const storedSeqs = stored.map((message) => message.seq);
      // Everything acked is there; at most the one append in flight at the kill may be too.
      expect(storedSeqs.slice(0, acked.length)).toEqual(acked);
      expect(storedSeqs).toEqual(Array.from({ length: storedSeqs.length }, (_, i) => i + 1));
      expect(storedSeqs.length - acked.length).toBeLessThanOrEqual(1);
      const log = await reopened.events.read(ns, 0);
      expect(log.events.map((event) => (JSON.parse(event.json) as { seq: number }).seq)).toEqual(storedSeqs);
      // The writer appends on where the dead one stopped.
      const next = await reopened.messages.append(ns, session.id, {
        id: 'after-crash',
        content: null,
        createdAt: 0,
        invokedAt: 0,
      });
      expect(next.ok && next.message.seq).toBe(storedSeqs.length + 1);
    } finally {
      await reopened.close();
    }
  }, 120_000);
});
