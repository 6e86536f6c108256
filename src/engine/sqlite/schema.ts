// The sqlite engine's tables, and the migrations that bring an older file up to date
// (PRAGMA user_version counts the migrations applied). Every tenant table is keyed by
// namespace first: ids are per namespace. Opaque JSON documents are TEXT.
import type { DatabaseSync } from 'node:sqlite';

const MIGRATIONS: readonly string[] = [
  // 1: the first schema.
  `
  CREATE TABLE sessions (
    ord INTEGER PRIMARY KEY, -- creation order (list order), stable through VACUUM
    namespace TEXT NOT NULL,
    id TEXT NOT NULL,
    tag TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    metadata TEXT NOT NULL,
    metadata_version INTEGER NOT NULL,
    agent_state TEXT NOT NULL,
    agent_state_version INTEGER NOT NULL,
    model TEXT,
    model_reasoning_effort TEXT,
    effort TEXT,
    service_tier TEXT,
    pinned INTEGER NOT NULL,
    global_pinned INTEGER NOT NULL,
    live TEXT NOT NULL,
    attached_sockets INTEGER NOT NULL DEFAULT 0,
    last_message_seq INTEGER NOT NULL DEFAULT 0, -- seqs are never reused after a delete or trim
    message_epoch INTEGER NOT NULL DEFAULT 0,
    UNIQUE (namespace, id),
    UNIQUE (namespace, tag)
  );
  CREATE INDEX sessions_by_namespace ON sessions (namespace, ord);

  CREATE TABLE machines (
    ord INTEGER PRIMARY KEY,
    namespace TEXT NOT NULL,
    id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    metadata TEXT NOT NULL,
    metadata_version INTEGER NOT NULL,
    runner_state TEXT NOT NULL,
    runner_state_version INTEGER NOT NULL,
    live TEXT NOT NULL,
    UNIQUE (namespace, id)
  );
  CREATE INDEX machines_by_namespace ON machines (namespace, ord);

  CREATE TABLE messages (
    namespace TEXT NOT NULL,
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    local_id TEXT,
    content TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    invoked_at INTEGER,
    PRIMARY KEY (namespace, session_id, seq)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX messages_by_id ON messages (namespace, session_id, id);
  CREATE UNIQUE INDEX messages_by_local_id ON messages (namespace, session_id, local_id) WHERE local_id IS NOT NULL;
  -- The web pager's order: (invokedAt ?? createdAt, seq).
  CREATE INDEX messages_by_position ON messages (namespace, session_id, coalesce(invoked_at, created_at), seq);
  -- Prompts queued for the CLI; every keep-alive counts them.
  CREATE INDEX messages_queued ON messages (namespace, session_id, seq) WHERE local_id IS NOT NULL AND invoked_at IS NULL;

  CREATE TABLE presence_deadlines (
    namespace TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    deadline INTEGER NOT NULL,
    PRIMARY KEY (namespace, kind, id)
  ) WITHOUT ROWID;
  CREATE INDEX presence_by_deadline ON presence_deadlines (deadline);

  CREATE TABLE namespaces (
    name TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    token_hash TEXT,
    generation INTEGER NOT NULL,
    revoked INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE rpc_routes (
    namespace TEXT NOT NULL,
    method TEXT NOT NULL,
    socket_id TEXT NOT NULL,
    PRIMARY KEY (namespace, method)
  ) WITHOUT ROWID;

  -- One row per namespace log: its epoch survives a restart, so SSE cursors resume.
  CREATE TABLE event_logs (
    namespace TEXT PRIMARY KEY,
    epoch TEXT NOT NULL,
    next_offset INTEGER NOT NULL,
    event_count INTEGER NOT NULL,
    total_bytes INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE events (
    namespace TEXT NOT NULL,
    "offset" INTEGER NOT NULL,
    json TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (namespace, "offset")
  ) WITHOUT ROWID;

  CREATE TABLE secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE locks (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE ephemeral (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE INDEX ephemeral_by_expiry ON ephemeral (expires_at);
  `,
  // 2: client documents (scratchlists, hub settings), kept until deleted.
  `
  CREATE TABLE documents (
    namespace TEXT NOT NULL,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (namespace, owner, name)
  ) WITHOUT ROWID;
  `,
  // 3: what each message counts against its namespace's history quota, so a trim or rewind can
  // give it back. Rows stored before this migration count 0 (their bytes are not given back).
  `
  ALTER TABLE messages ADD COLUMN counted_bytes INTEGER NOT NULL DEFAULT 0;
  `,
];

/** Applies the migrations this file lacks; the caller runs it inside a write transaction. */
export function migrate(db: DatabaseSync): void {
  const row = db.prepare('PRAGMA user_version').get();
  const applied = Number(row?.user_version ?? 0);
  if (applied > MIGRATIONS.length) {
    throw new Error(
      `sqlite database schema version ${applied} is newer than this hub (${MIGRATIONS.length}); upgrade the hub`,
    );
  }
  for (let version = applied; version < MIGRATIONS.length; version += 1) {
    db.exec(MIGRATIONS[version] ?? '');
    db.exec(`PRAGMA user_version = ${version + 1}`);
  }
}
