// The sqlite engine serves one hub process, but each primitive is one BEGIN IMMEDIATE
// transaction, so it stays atomic when other processes open the same file: real processes
// append to one session and sweep one presence table at the same time.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteEngine } from '../../src/engine/sqlite/engine.js';
import type { ProcessOutcome, ProcessTask } from '../helpers/sqlite-engine-process.js';
import { createSession, DEFAULT_OPTIONS, T0, uniqueNamespace } from './contract/harness.js';

const PROCESS_FILE = join(import.meta.dirname, '..', 'helpers', 'sqlite-engine-process.ts');
const dir = mkdtempSync(join(tmpdir(), 'hapi-sqlite-processes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface StartedProcess {
  ready: Promise<void>;
  go(): void;
  outcome: Promise<ProcessOutcome>;
}

/** Starts one process on the file; it opens the database, says `ready`, and works after go(). */
function startProcess(task: ProcessTask): StartedProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', PROCESS_FILE, JSON.stringify(task)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    timeout: 60_000,
  });
  const lines = createInterface({ input: child.stdout });
  const received: string[] = [];
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  lines.on('line', (line) => {
    if (line === 'ready') onReady();
    else received.push(line);
  });
  const outcome = once(child, 'exit').then(([code]) => {
    if (code !== 0) throw new Error(`sqlite process exited with ${String(code)}`);
    return JSON.parse(received.join('')) as ProcessOutcome;
  });
  return { ready, go: () => child.stdin.end('go\n'), outcome };
}

describe('sqlite engine shared by processes', () => {
  it('gives gap-free seqs, one event per message and each overdue entry to exactly one of three processes', async () => {
    const file = join(dir, 'shared.db');
    const ns = uniqueNamespace();
    const setup = createSqliteEngine(file, DEFAULT_OPTIONS);
    const session = await createSession(setup, ns);
    const machineIds: string[] = [];
    for (let i = 0; i < 300; i += 1) {
      const id = `machine-${i}`;
      await setup.machines.getOrCreate(ns, { id, metadata: null, runnerState: null }, T0);
      await setup.presence.refresh(ns, 'machine', id, {
        deadline: T0 + i,
        activeAt: T0,
        fields: {},
        now: T0,
        broadcastThrottleMs: 0,
      });
      machineIds.push(id);
    }
    await setup.close();

    const task: ProcessTask = { file, ns, sessionId: session.id, appends: 150, sweepNow: T0 + 1_000, sweepLimit: 1 };
    const processes = [startProcess(task), startProcess(task), startProcess(task)];
    await Promise.all(processes.map((started) => started.ready));
    for (const started of processes) started.go();
    const outcomes = await Promise.all(processes.map((started) => started.outcome));

    const seqs = outcomes.flatMap((outcome) => outcome.seqs).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 450 }, (_, i) => i + 1));
    const expired = outcomes.flatMap((outcome) => outcome.expired).sort();
    expect(expired).toEqual([...machineIds].sort());

    const check = createSqliteEngine(file, DEFAULT_OPTIONS);
    const log = await check.events.read(ns, 0);
    expect(log.events.map((event) => JSON.parse(event.json) as { seq: number }).map((event) => event.seq)).toEqual(
      seqs,
    );
    expect(log.events.map((event) => event.offset)).toEqual(seqs);
    const machine = await check.machines.get(ns, 'machine-0');
    expect(machine?.live.active).toBe(false);
    await check.close();
  }, 120_000);
});
