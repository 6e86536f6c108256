import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createEngine, SQLITE_FILE_NAME } from '../../src/engine/index.js';
import { createSqliteEngine } from '../../src/engine/sqlite/engine.js';
import { describeEngineContract } from './contract.js';
import { createSession, DEFAULT_OPTIONS, messageInput, T0, uniqueNamespace } from './contract/harness.js';

// One temp directory for the file; every engine gets a database file of its own, so the
// contract's presence sweeps cannot see another test's entries.
const dir = mkdtempSync(join(tmpdir(), 'hapi-sqlite-engine-'));
let files = 0;
const freshFile = (): string => {
  files += 1;
  return join(dir, `hub-${files}.db`);
};

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeEngineContract('sqlite', async (options) => {
  const engine = createSqliteEngine(freshFile(), options);
  return { engine, cleanup: () => engine.close() };
});

describe('sqlite engine specifics', () => {
  it('reports its kind', async () => {
    const engine = createSqliteEngine(freshFile(), DEFAULT_OPTIONS);
    expect(engine.kind).toBe('sqlite');
    await engine.close();
  });

  it('keeps sessions, messages, secrets and the event log (same epoch, offsets continue) across a reopen of the file', async () => {
    const file = freshFile();
    const ns = uniqueNamespace();
    const first = createSqliteEngine(file, DEFAULT_OPTIONS);
    const session = await createSession(first, ns);
    const appended = await first.messages.append(ns, session.id, {
      ...messageInput({ createdAt: T0 }),
      event: { before: '{"type":"message-received","seq":', after: '}' },
    });
    if (!appended.ok || !appended.event) throw new Error('append failed');
    await first.events.append(ns, '{"type":"second"}');
    const before = await first.events.read(ns, 0);
    const secret = await first.coordination.getOrSetSecret('hub-token', 'first-value');
    await first.close();

    const reopened = createSqliteEngine(file, DEFAULT_OPTIONS);
    expect(await reopened.sessions.get(ns, session.id)).toEqual(session);
    expect(await reopened.messages.listAfterSeq(ns, session.id, 0, 10)).toEqual([appended.message]);
    expect(await reopened.coordination.getOrSetSecret('hub-token', 'second-value')).toBe(secret);
    // A client holding (epoch, offset 1) resumes: the same epoch, the missed event still there.
    const resumed = await reopened.events.read(ns, 1);
    expect(resumed).toEqual({
      epoch: before.epoch,
      nextOffset: 3,
      oldestOffset: 1,
      events: [{ offset: 2, json: '{"type":"second"}' }],
    });
    const next = await reopened.events.append(ns, '{"type":"third"}');
    expect(next).toEqual({ namespace: ns, epoch: before.epoch, offset: 3, json: '{"type":"third"}' });
    const again = await reopened.messages.append(ns, session.id, messageInput({ createdAt: T0 + 1 }));
    expect(again.ok && again.message.seq).toBe(2);
    await reopened.close();
  });

  it('answers a closed engine with EngineUnavailableError', async () => {
    const engine = createSqliteEngine(freshFile(), DEFAULT_OPTIONS);
    await engine.close();
    await expect(engine.sessions.list('ns')).rejects.toMatchObject({ name: 'EngineUnavailableError' });
  });

  it('is what createEngine opens by default (no REDIS_URL), in HAPI_DATA_DIR created with mode 0700', async () => {
    const dataDir = join(dir, 'nested', 'data');
    const engine = await createEngine(loadConfig({ HAPI_DATA_DIR: dataDir }));
    try {
      expect(engine.kind).toBe('sqlite');
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      expect(existsSync(join(dataDir, SQLITE_FILE_NAME))).toBe(true);
    } finally {
      await engine.close();
    }
  });

  it('migrates a schema-2 file (no counted_bytes): old rows count 0 when removed, new rows their bytes', async () => {
    const file = freshFile();
    const ns = uniqueNamespace();
    const first = createSqliteEngine(file, DEFAULT_OPTIONS);
    const session = await createSession(first, ns);
    const old = await first.messages.append(ns, session.id, messageInput({ createdAt: T0, localId: 'old' }));
    await first.close();
    // What a hub of schema 2 left behind: the messages table without the column.
    const raw = new DatabaseSync(file);
    raw.exec('ALTER TABLE messages DROP COLUMN counted_bytes; PRAGMA user_version = 2;');
    raw.close();

    const migrated = createSqliteEngine(file, DEFAULT_OPTIONS);
    expect(await migrated.messages.listAfterSeq(ns, session.id, 0, 10)).toEqual([old.ok && old.message]);
    await migrated.messages.append(ns, session.id, messageInput({ createdAt: T0 + 1, countedBytes: 40 }));
    expect(await migrated.messages.truncateFrom(ns, session.id, 'old', [])).toMatchObject({
      deleted: 2,
      deletedBytes: 40,
    });
    await migrated.close();
    const check = new DatabaseSync(file);
    expect(check.prepare('PRAGMA user_version').get()).toEqual({ user_version: 3 });
    check.close();
  });
});
