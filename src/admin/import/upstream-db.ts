// Reads an upstream hub's hapi.db, read-only (node:sqlite): checks it is one this import
// understands, then hands out its rows through the zod schemas of upstream-rows.ts.
import { existsSync, statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { zstdDecompressSync } from 'node:zlib';
import {
  LEFT_BEHIND_TABLES,
  REQUIRED_COLUMNS,
  UPSTREAM_SCHEMA_VERSION,
  type UpstreamMachineRow,
  UpstreamMachineRowSchema,
  type UpstreamMessageRow,
  UpstreamMessageRowSchema,
  type UpstreamSessionRow,
  UpstreamSessionRowSchema,
} from './upstream-rows.js';

/** The file cannot be imported; the message says why, for the operator. */
export class UpstreamDbError extends Error {
  override name = 'UpstreamDbError';
}

/** zstd frame magic number (RFC 8878): upstream compresses larger message bodies. */
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

export class UpstreamDb {
  private constructor(
    private readonly db: DatabaseSync,
    readonly schemaVersion: number,
  ) {}

  /** Opens `path` read-only and checks it is an upstream hub database of a known schema. */
  static open(path: string): UpstreamDb {
    if (!existsSync(path)) throw new UpstreamDbError(`${path}: no such file`);
    if (!statSync(path).isFile()) throw new UpstreamDbError(`${path}: not a file (give the path of hapi.db)`);
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path, { readOnly: true });
      db.prepare('SELECT count(*) FROM sqlite_master').get();
    } catch (error) {
      throw new UpstreamDbError(`${path}: not an SQLite database (${(error as Error).message})`);
    }
    try {
      const version = Number(db.prepare('PRAGMA user_version').get()?.user_version ?? 0);
      for (const [table, columns] of Object.entries(REQUIRED_COLUMNS)) {
        const present = new Set(
          db
            .prepare(`PRAGMA table_info("${table}")`)
            .all()
            .map((c) => String(c.name)),
        );
        const missing = columns.filter((column) => !present.has(column));
        if (present.size === 0) throw new UpstreamDbError(`${path}: not an upstream hub database (no ${table} table)`);
        if (missing.length > 0)
          throw new UpstreamDbError(
            `${path}: table ${table} lacks ${missing.join(', ')} (not an upstream hub database?)`,
          );
      }
      if (version > UPSTREAM_SCHEMA_VERSION) {
        throw new UpstreamDbError(
          `${path}: schema version ${version} is newer than this import knows (${UPSTREAM_SCHEMA_VERSION}, hub 0.30.7); refusing rather than guessing`,
        );
      }
      return new UpstreamDb(db, version);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  close(): void {
    this.db.close();
  }

  /** Distinct namespaces with the earliest creation time seen among their rows. */
  namespaces(): { name: string; createdAt: number }[] {
    const rows = this.db
      .prepare(
        `SELECT namespace, min(created_at) AS created_at FROM (
           SELECT namespace, created_at FROM sessions UNION ALL SELECT namespace, created_at FROM machines
         ) GROUP BY namespace ORDER BY namespace`,
      )
      .all();
    return rows.map((row) => ({ name: String(row.namespace), createdAt: Number(row.created_at) }));
  }

  machines(): UpstreamMachineRow[] {
    return this.db
      .prepare('SELECT * FROM machines ORDER BY created_at, id')
      .all()
      .map((row) => parseRow(UpstreamMachineRowSchema, row, 'machine'));
  }

  sessions(): UpstreamSessionRow[] {
    return this.db
      .prepare('SELECT * FROM sessions ORDER BY created_at, id')
      .all()
      .map((row) => parseRow(UpstreamSessionRowSchema, row, 'session'));
  }

  messageCount(): number {
    return Number(this.db.prepare('SELECT count(*) AS n FROM messages').get()?.n ?? 0);
  }

  /** One session's messages in ascending seq, read lazily (a session may hold many). */
  *messagesOf(sessionId: string): Generator<UpstreamMessageRow & { json: unknown }> {
    const statement = this.db.prepare(
      'SELECT id, session_id, content, created_at, seq, local_id, invoked_at FROM messages WHERE session_id = ? ORDER BY seq',
    );
    for (const row of statement.iterate(sessionId)) {
      const parsed = parseRow(UpstreamMessageRowSchema, row, 'message');
      yield { ...parsed, json: decodeContent(parsed) };
    }
  }

  /** Row counts of the tables the import leaves behind (absent tables count 0). */
  leftBehind(): Record<(typeof LEFT_BEHIND_TABLES)[number], number> {
    const counts = {} as Record<(typeof LEFT_BEHIND_TABLES)[number], number>;
    for (const table of LEFT_BEHIND_TABLES) {
      const exists = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
      counts[table] = exists ? Number(this.db.prepare(`SELECT count(*) AS n FROM "${table}"`).get()?.n ?? 0) : 0;
    }
    return counts;
  }
}

function parseRow<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { message: string } } },
  row: unknown,
  kind: string,
): T {
  const parsed = schema.safeParse(row);
  if (!parsed.success) {
    const id = (row as { id?: unknown }).id;
    throw new UpstreamDbError(
      `upstream ${kind} ${String(id)} does not have the expected shape: ${parsed.error.message}`,
    );
  }
  return parsed.data;
}

function decodeContent(row: UpstreamMessageRow): unknown {
  let text: string;
  if (typeof row.content === 'string') text = row.content;
  else {
    const bytes = Buffer.from(row.content.buffer, row.content.byteOffset, row.content.byteLength);
    const compressed = ZSTD_MAGIC.every((byte, i) => bytes[i] === byte);
    text = (compressed ? zstdDecompressSync(bytes) : bytes).toString('utf8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UpstreamDbError(`upstream message ${row.id}: content is not JSON`);
  }
}
