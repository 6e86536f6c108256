// `hapi-hub import` in-process against small hand-made upstream databases (the real upstream hub
// producing one is test/interop/import.test.ts): refusals, seq gaps, compressed bodies, conflicts
// and idempotency, into the sqlite engine.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runImportCommand } from '../../src/admin/import/command.js';
import { REQUIRED_COLUMNS, UPSTREAM_SCHEMA_VERSION } from '../../src/admin/import/upstream-rows.js';
import { loadConfig } from '../../src/config.js';
import { createEngine, SQLITE_FILE_NAME } from '../../src/engine/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hapi-import-unit-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sqliteConfig = () => loadConfig({ HAPI_ENGINE: 'sqlite', HAPI_DATA_DIR: join(dir, 'ours') });

async function run(args: string[], config = sqliteConfig()) {
  const out: string[] = [];
  let err = '';
  const code = await runImportCommand(
    config,
    args,
    (line) => out.push(line),
    (text) => (err += text),
  );
  return { code, out: out.join('\n'), err };
}

/** An upstream-shaped database: the columns the import reads, at `version`. */
function upstreamDb(version = UPSTREAM_SCHEMA_VERSION): { path: string; db: DatabaseSync } {
  const home = join(dir, 'upstream');
  const path = join(home, 'hapi.db');
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  const db = new DatabaseSync(path);
  for (const [table, columns] of Object.entries(REQUIRED_COLUMNS))
    db.exec(`CREATE TABLE ${table} (${columns.join(', ')})`);
  db.exec(`PRAGMA user_version = ${version}`);
  return { path, db };
}

function insertSession(db: DatabaseSync, id: string, ns: string, tag: string): void {
  db.prepare(
    `INSERT INTO sessions (id, tag, namespace, created_at, updated_at, metadata, metadata_version, agent_state,
       agent_state_version, model, model_reasoning_effort, effort, service_tier, pinned, global_pinned, active_at, seq)
     VALUES (?, ?, ?, 100, 200, ?, 4, NULL, 2, 'opus', NULL, NULL, NULL, 1, 0, 150, 9)`,
  ).run(id, tag, ns, JSON.stringify({ path: '/w', host: 'h' }));
}

function insertMessage(
  db: DatabaseSync,
  sessionId: string,
  seq: number,
  content: string | Uint8Array,
  localId: string | null = null,
): void {
  db.prepare(
    'INSERT INTO messages (id, session_id, content, created_at, seq, local_id, invoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ).run(`${sessionId}-m${seq}`, sessionId, content, 1000 + seq, seq, localId, localId === null ? 1000 + seq : null);
}

describe('hapi-hub import', () => {
  it('answers --help, and refuses missing arguments and the memory engine', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('usage: hapi-hub import --from');
    expect((await run([])).code).toBe(2);
    expect((await run(['--from'])).err).toContain('--from needs a value');
    expect((await run(['--bogus'])).err).toContain('unknown argument --bogus');
    const memory = await run(['--from', join(dir, 'x.db')], loadConfig({ HAPI_ENGINE: 'memory' }));
    expect(memory.code).toBe(2);
    expect(memory.err).toContain('memory engine keeps nothing');
  });

  it('refuses a newer upstream schema, and our own hub database, before touching the engine', async () => {
    const { path, db } = upstreamDb(UPSTREAM_SCHEMA_VERSION + 1);
    db.close();
    const newer = await run(['--from', path]);
    expect(newer.code).toBe(1);
    expect(newer.err).toContain(`schema version ${UPSTREAM_SCHEMA_VERSION + 1} is newer`);
    expect(existsSync(join(dir, 'ours'))).toBe(false);

    const ourHub = join(dir, 'other');
    const engine = await createEngine(loadConfig({ HAPI_ENGINE: 'sqlite', HAPI_DATA_DIR: ourHub }));
    await engine.close();
    const own = await run(['--from', join(ourHub, SQLITE_FILE_NAME)]);
    expect(own.code).toBe(1);
    expect(own.err).toMatch(/not an upstream hub database/);
  });

  it('keeps seqs (gaps too), local ids, timestamps and compressed bodies; a second run adds nothing', async () => {
    const { path, db } = upstreamDb();
    insertSession(db, 's1', 'alice', 'tag-1');
    insertMessage(db, 's1', 1, JSON.stringify({ role: 'user', text: 'one' }), 'local-1');
    insertMessage(
      db,
      's1',
      2,
      new Uint8Array(zstdCompressSync(Buffer.from(JSON.stringify({ role: 'agent', text: 'two' })))),
    );
    insertMessage(db, 's1', 5, JSON.stringify({ role: 'agent', text: 'five' }));
    db.close();
    writeFileSync(join(dir, 'upstream', 'settings.json'), JSON.stringify({ cliApiToken: 'upstream-token' }));

    const first = await run(['--from', path]);
    expect(first.code, first.err).toBe(0);
    expect(first.out).toContain('sessions: 1 added, 0 skipped');
    expect(first.out).toContain('messages: 3 added, 0 skipped');
    expect(first.out).toContain('hub token: carried over');
    expect(first.err).toContain('import: messages 3/3');

    const engine = await createEngine(sqliteConfig());
    try {
      expect(await engine.sessions.get('alice', 's1')).toMatchObject({
        tag: 'tag-1',
        createdAt: 100,
        updatedAt: 200,
        seq: 9,
        metadataVersion: 4,
        agentStateVersion: 2,
        model: 'opus',
        pinned: true,
        live: { activeAt: 150 },
      });
      const rows = await engine.messages.listAfterSeq('alice', 's1', 0, 10);
      expect(rows.map((m) => [m.seq, m.localId, m.createdAt, m.invokedAt, m.content])).toEqual([
        [1, 'local-1', 1001, null, { role: 'user', text: 'one' }],
        [2, null, 1002, 1002, { role: 'agent', text: 'two' }],
        [5, null, 1005, 1005, { role: 'agent', text: 'five' }],
      ]);
      // The queued prompt stays queued for the CLI, as upstream would have delivered it.
      expect((await engine.messages.queued('alice', 's1')).map((m) => m.localId)).toEqual(['local-1']);
      expect(await engine.coordination.getOrSetSecret('cli-api-token', 'other')).toBe('upstream-token');
    } finally {
      await engine.close();
    }

    const second = await run(['--from', path]);
    expect(second.code).toBe(0);
    expect(second.out).toContain('namespaces: 0 added, 1 skipped');
    expect(second.out).toContain('sessions: 0 added, 1 skipped');
    expect(second.out).toContain('messages: 0 added, 3 skipped');
  });

  it('leaves a session whose tag another session of this hub owns, with its messages, and says so', async () => {
    const engine = await createEngine(sqliteConfig());
    await engine.sessions.getOrCreate('alice', { id: 'mine', tag: 'tag-1', metadata: null, agentState: null }, 1);
    await engine.close();
    const { path, db } = upstreamDb();
    insertSession(db, 's1', 'alice', 'tag-1');
    insertMessage(db, 's1', 1, JSON.stringify({ text: 'x' }));
    db.close();
    const result = await run(['--from', path]);
    expect(result.code).toBe(0);
    expect(result.out).toContain('sessions: 0 added, 1 skipped');
    expect(result.out).toContain('messages: 0 added, 1 skipped');
    expect(result.out).toContain('conflict: session s1 (alice): tag-bound-to-other-id');
    expect(result.err).toContain('settings.json: the hub-wide CLI_API_TOKEN is not carried over');
  });

  it("keeps this hub's own generated token and says how to accept upstream's", async () => {
    const engine = await createEngine(sqliteConfig());
    await engine.coordination.getOrSetSecret('cli-api-token', 'ours');
    await engine.close();
    const { path, db } = upstreamDb();
    db.close();
    writeFileSync(join(dir, 'upstream', 'settings.json'), JSON.stringify({ cliApiToken: 'theirs' }));
    const result = await run(['--from', path]);
    expect(result.code).toBe(0);
    expect(result.out).toContain('hub token: NOT carried over');
    expect(result.out).toContain("CLI_API_TOKEN=<upstream's token>");
    const after = await createEngine(sqliteConfig());
    expect(await after.coordination.getOrSetSecret('cli-api-token', 'x')).toBe('ours');
    await after.close();
  });
});
