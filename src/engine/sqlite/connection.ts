// One SQLite database file opened with node:sqlite (built into Node 22.5+/24, no native add-on),
// with the pragmas that make acked writes durable, a statement cache, and the transaction
// helper every primitive runs in. node:sqlite is synchronous: a primitive's statements run
// without an await in between, and BEGIN IMMEDIATE makes the block atomic against a second
// process that opens the same file too.
import { DatabaseSync, type SQLInputValue, type SQLOutputValue, type StatementSync } from 'node:sqlite';
import { EngineUnavailableError } from '../types.js';
import { migrate } from './schema.js';

export type SqlParam = SQLInputValue;
export type SqlRow = Record<string, SQLOutputValue>;

/** How long a statement waits for another process's write lock before failing as unavailable. */
const BUSY_TIMEOUT_MS = 5_000;

/** SQLite primary result codes that mean "cannot serve now", not "bad request". */
const UNAVAILABLE_CODES = new Set([
  5, // SQLITE_BUSY
  6, // SQLITE_LOCKED
  10, // SQLITE_IOERR
  13, // SQLITE_FULL
  14, // SQLITE_CANTOPEN
]);

/**
 * When a commit reaches the disk (HAPI_SQLITE_SYNC). `full`: every commit fsyncs the WAL before
 * the primitive returns, so an acked write survives a kill -9 and a power loss. `normal`: the WAL
 * is fsynced at checkpoints only; an acked write still survives a kill -9 of the hub (the commit
 * is in the OS's page cache), but a power loss or kernel crash can lose the last commits. It
 * takes the fsync off every write, which on slow disks is most of a write's cost.
 */
export type SqliteSync = 'full' | 'normal';

export class SqliteConnection {
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();

  constructor(
    readonly path: string,
    sync: SqliteSync = 'full',
  ) {
    this.db = new DatabaseSync(path);
    try {
      // WAL: readers never block the writer, and a commit is one append to the -wal file.
      this.db.exec('PRAGMA journal_mode = WAL');
      this.db.exec(`PRAGMA synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
      this.db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      this.write(() => migrate(this.db));
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  get isOpen(): boolean {
    return this.db.isOpen;
  }

  /** Runs `work` in one BEGIN IMMEDIATE … COMMIT (or inside the caller's transaction). */
  write<T>(work: () => T): T {
    return this.transaction('BEGIN IMMEDIATE', work);
  }

  /** Runs several reads against one snapshot (a deferred transaction). */
  read<T>(work: () => T): T {
    return this.transaction('BEGIN', work);
  }

  run(sql: string, ...params: SqlParam[]): number {
    return Number(this.guard(() => this.statement(sql).run(...params).changes));
  }

  get(sql: string, ...params: SqlParam[]): SqlRow | undefined {
    return this.guard(() => this.statement(sql).get(...params));
  }

  all(sql: string, ...params: SqlParam[]): SqlRow[] {
    return this.guard(() => this.statement(sql).all(...params));
  }

  close(): void {
    if (!this.db.isOpen) return;
    this.statements.clear();
    this.db.close();
  }

  private transaction<T>(begin: string, work: () => T): T {
    return this.guard(() => {
      if (this.db.isTransaction) return work();
      this.db.exec(begin);
      try {
        const result = work();
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.db.isOpen && this.db.isTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  private statement(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** Maps "the database cannot serve now" (closed, locked too long, disk) to EngineUnavailableError. */
  private guard<T>(work: () => T): T {
    if (!this.db.isOpen) throw new EngineUnavailableError(`sqlite database ${this.path} is closed`);
    try {
      return work();
    } catch (error) {
      if (error instanceof EngineUnavailableError) throw error;
      if (isUnavailable(error))
        throw new EngineUnavailableError(`sqlite database ${this.path} unavailable: ${String(error)}`, {
          cause: error,
        });
      throw error;
    }
  }
}

function isUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('errcode' in error)) return false;
  const code = (error as { errcode: unknown }).errcode;
  return typeof code === 'number' && UNAVAILABLE_CODES.has(code & 0xff);
}

/** Column readers: node:sqlite returns SQLOutputValue; the schema fixes each column's type. */
export function text(row: SqlRow, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new Error(`sqlite column ${column}: expected text, got ${typeof value}`);
  return value;
}

export function textOrNull(row: SqlRow, column: string): string | null {
  const value = row[column];
  return value === null || value === undefined ? null : text(row, column);
}

export function int(row: SqlRow, column: string): number {
  const value = row[column];
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new Error(`sqlite column ${column}: expected integer, got ${typeof value}`);
}

export function intOrNull(row: SqlRow, column: string): number | null {
  const value = row[column];
  return value === null || value === undefined ? null : int(row, column);
}

/** Opaque JSON documents are stored as TEXT, verbatim as JSON.stringify wrote them. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value ?? null);
}

export function parseJson(row: SqlRow, column: string): unknown {
  return JSON.parse(text(row, column)) as unknown;
}
