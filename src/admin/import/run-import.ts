// Copies an upstream hub's data into the configured engine: namespaces, machines, sessions,
// messages and the hub-wide CLI token. Idempotent: rows are keyed by their upstream ids (and
// messages also by localId), so a second run finds every row present and adds nothing.
import type { Engine } from '../../engine/engine.js';
import { HUB_TOKEN_SECRET } from '../../services/auth.js';
import { machineInput, messageInput, sessionInput } from './map-rows.js';
import type { UpstreamDb } from './upstream-db.js';
import type { LEFT_BEHIND_TABLES, UpstreamSessionRow } from './upstream-rows.js';

/** Sessions whose messages are copied at the same time. */
const SESSIONS_AT_ONCE = 8;

export interface KindCounts {
  added: number;
  skipped: number;
}

export type HubTokenOutcome =
  /** This hub now accepts upstream's token (it had none, or already the same one). */
  | 'carried-over'
  /** This hub already has another generated token: kept (its CLIs would break otherwise). */
  | 'kept-existing'
  /** No settings.json (or no cliApiToken in it) next to the database. */
  | 'not-found';

export interface ImportReport {
  namespaces: KindCounts;
  machines: KindCounts;
  sessions: KindCounts;
  messages: KindCounts;
  hubToken: HubTokenOutcome;
  /** Rows that could not be carried over, one sentence each (e.g. a tag taken by another session). */
  conflicts: string[];
  leftBehind: Record<(typeof LEFT_BEHIND_TABLES)[number], number>;
}

export interface ImportOptions {
  /** Upstream's hub-wide CLI_API_TOKEN (settings.json), if found. */
  hubToken: string | null;
  /** Called every `progressEvery` messages and once at the end. */
  onProgress?: (done: number, total: number) => void;
  progressEvery?: number;
}

export async function importUpstream(
  upstream: UpstreamDb,
  engine: Engine,
  options: ImportOptions,
): Promise<ImportReport> {
  const report: ImportReport = {
    namespaces: { added: 0, skipped: 0 },
    machines: { added: 0, skipped: 0 },
    sessions: { added: 0, skipped: 0 },
    messages: { added: 0, skipped: 0 },
    hubToken: 'not-found',
    conflicts: [],
    leftBehind: upstream.leftBehind(),
  };
  const count = (counts: KindCounts, added: boolean): void => {
    if (added) counts.added += 1;
    else counts.skipped += 1;
  };

  for (const ns of upstream.namespaces())
    count(report.namespaces, await engine.namespaces.register(ns.name, ns.createdAt));

  for (const row of upstream.machines()) {
    const { created } = await engine.machines.getOrCreate(row.namespace, machineInput(row), row.created_at);
    count(report.machines, created);
    if (created && row.active_at !== null)
      await engine.presence.setLiveFields(row.namespace, 'machine', row.id, { activeAt: row.active_at });
  }

  const total = upstream.messageCount();
  const every = options.progressEvery ?? 1_000;
  let done = 0;
  const step = () => {
    done += 1;
    if (done % every === 0) options.onProgress?.(done, total);
  };
  // Sessions in upstream's creation order (our lists keep insertion order), one at a time.
  const withMessages: UpstreamSessionRow[] = [];
  for (const row of upstream.sessions()) {
    const result = await engine.sessions.getOrCreate(row.namespace, sessionInput(row), row.created_at);
    if (!result.ok) {
      // Another session of this hub owns the id or the tag: importing into it would mix two histories.
      report.conflicts.push(`session ${row.id} (${row.namespace}): ${result.reason}, not imported with its messages`);
      count(report.sessions, false);
      for (const _ of upstream.messagesOf(row.id)) {
        count(report.messages, false);
        step();
      }
      continue;
    }
    count(report.sessions, result.created);
    if (result.created && row.active_at !== null)
      await engine.presence.setLiveFields(row.namespace, 'session', row.id, { activeAt: row.active_at });
    withMessages.push(row);
  }
  // Messages: ascending seq within a session (each seq is asked for, see AppendMessageInput.seq);
  // several sessions at once, so a remote engine's round trips overlap.
  await eachConcurrently(withMessages, SESSIONS_AT_ONCE, async (row) => {
    for (const message of upstream.messagesOf(row.id)) {
      const appended = await engine.messages.append(row.namespace, row.id, messageInput(message, message.json));
      count(report.messages, appended.ok && appended.inserted);
      step();
    }
  });
  options.onProgress?.(done, total);

  if (options.hubToken !== null) {
    const stored = await engine.coordination.getOrSetSecret(HUB_TOKEN_SECRET, options.hubToken);
    report.hubToken = stored === options.hubToken ? 'carried-over' : 'kept-existing';
  }
  return report;
}

async function eachConcurrently<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
