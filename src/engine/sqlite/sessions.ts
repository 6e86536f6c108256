// Session rows in SQLite: one row per (namespace, id), tags unique per namespace.
import { randomUUID } from 'node:crypto';
import type { SessionStore } from '../stores/sessions.js';
import type { SessionColumnsPatch, SessionRow } from '../types.js';
import { jsonText, type SqliteConnection, type SqlParam } from './connection.js';
import { compareAndSetColumn, sessionOf } from './rows.js';

/** Patchable columns (types.ts PATCHABLE_SESSION_COLUMNS) → table column. */
const PATCH_COLUMNS = {
  model: 'model',
  modelReasoningEffort: 'model_reasoning_effort',
  effort: 'effort',
  serviceTier: 'service_tier',
  pinned: 'pinned',
  globalPinned: 'global_pinned',
} as const satisfies Record<keyof Omit<SessionColumnsPatch, 'updatedAt'>, string>;

export function createSessionStore(db: SqliteConnection): SessionStore {
  const find = (ns: string, id: string): SessionRow | null => {
    const row = db.get('SELECT * FROM sessions WHERE namespace = ? AND id = ?', ns, id);
    return row ? sessionOf(row) : null;
  };

  return {
    async getOrCreate(ns, input, now) {
      return db.write(() => {
        const byTagRow = db.get('SELECT * FROM sessions WHERE namespace = ? AND tag = ?', ns, input.tag);
        if (byTagRow) {
          const byTag = sessionOf(byTagRow);
          if (input.id !== undefined && input.id !== byTag.id) return { ok: false, reason: 'tag-bound-to-other-id' };
          return { ok: true, session: byTag, created: false };
        }
        if (input.id !== undefined) {
          const byId = find(ns, input.id);
          if (byId) {
            if (byId.tag === input.tag) return { ok: true, session: byId, created: false };
            return { ok: false, reason: 'id-bound-to-other-session' };
          }
        }
        const id = input.id ?? randomUUID();
        const stored = input.stored;
        db.run(
          `INSERT INTO sessions (namespace, id, tag, created_at, updated_at, seq, metadata, metadata_version, agent_state,
             agent_state_version, model, model_reasoning_effort, effort, service_tier, pinned, global_pinned, live)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}')`,
          ns,
          id,
          input.tag,
          now,
          stored?.updatedAt ?? now,
          stored?.seq ?? 0,
          jsonText(input.metadata),
          stored?.metadataVersion ?? 1,
          jsonText(input.agentState),
          stored?.agentStateVersion ?? 1,
          input.model ?? null,
          input.modelReasoningEffort ?? null,
          input.effort ?? null,
          stored?.serviceTier ?? null,
          stored?.pinned ? 1 : 0,
          stored?.globalPinned ? 1 : 0,
        );
        const session = find(ns, id);
        if (!session) throw new Error(`session ${id} missing right after its insert`);
        return { ok: true, session, created: true };
      });
    },

    async get(ns, id) {
      return find(ns, id);
    },

    async list(ns) {
      return db.all('SELECT * FROM sessions WHERE namespace = ? ORDER BY ord', ns).map(sessionOf);
    },

    async compareAndSet(ns, id, field, expectedVersion, value, opts) {
      const column = field === 'metadata' ? 'metadata' : 'agent_state';
      return compareAndSetColumn(db, 'sessions', column, { ns, id }, expectedVersion, value, {
        rule: opts.touchUpdatedAt ? 'max' : 'keep',
        now: opts.now,
      });
    },

    async updateColumns(ns, id, patch) {
      return db.write(() => {
        const assignments: string[] = ['seq = seq + 1'];
        const params: SqlParam[] = [];
        for (const [key, column] of Object.entries(PATCH_COLUMNS) as [keyof typeof PATCH_COLUMNS, string][]) {
          const value = patch[key];
          if (value === undefined) continue;
          assignments.push(`${column} = ?`);
          params.push(typeof value === 'boolean' ? Number(value) : value);
        }
        if (patch.updatedAt !== undefined) {
          assignments.push('updated_at = max(updated_at, ?)');
          params.push(patch.updatedAt);
        }
        const changed = db.run(
          `UPDATE sessions SET ${assignments.join(', ')} WHERE namespace = ? AND id = ?`,
          ...params,
          ns,
          id,
        );
        return changed === 0 ? null : find(ns, id);
      });
    },

    async delete(ns, id) {
      return db.write(() => {
        if (db.run('DELETE FROM sessions WHERE namespace = ? AND id = ?', ns, id) === 0) return false;
        db.run('DELETE FROM messages WHERE namespace = ? AND session_id = ?', ns, id);
        db.run("DELETE FROM presence_deadlines WHERE namespace = ? AND kind = 'session' AND id = ?", ns, id);
        return true;
      });
    },

    async adjustAttachedSockets(ns, sessionId, delta) {
      db.write(() => {
        db.run(
          'UPDATE sessions SET attached_sockets = max(0, attached_sockets + ?) WHERE namespace = ? AND id = ?',
          delta,
          ns,
          sessionId,
        );
      });
    },
  };
}
