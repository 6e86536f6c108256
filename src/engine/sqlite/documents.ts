// Documents in SQLite: one row per (namespace, owner, name) in the documents table.
import type { DocumentStore } from '../stores/documents.js';
import { type SqliteConnection, text } from './connection.js';

export function createDocumentStore(db: SqliteConnection): DocumentStore {
  return {
    async get(ns, owner, name) {
      const row = db.get('SELECT json FROM documents WHERE namespace = ? AND owner = ? AND name = ?', ns, owner, name);
      return row ? text(row, 'json') : null;
    },

    async put(ns, owner, name, json) {
      db.write(() => {
        db.run(
          `INSERT INTO documents (namespace, owner, name, json) VALUES (?, ?, ?, ?)
           ON CONFLICT (namespace, owner, name) DO UPDATE SET json = excluded.json`,
          ns,
          owner,
          name,
          json,
        );
      });
    },

    async delete(ns, owner, name) {
      return db.write(
        () => db.run('DELETE FROM documents WHERE namespace = ? AND owner = ? AND name = ?', ns, owner, name) > 0,
      );
    },

    async deleteOwner(ns, owner) {
      return db.write(() => db.run('DELETE FROM documents WHERE namespace = ? AND owner = ?', ns, owner));
    },
  };
}
