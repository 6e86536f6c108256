// The RPC route table in SQLite: (namespace, method) → socket id.
import type { RpcRouteTable } from '../stores/rpc-routes.js';
import { type SqliteConnection, text } from './connection.js';

export function createRpcRouteTable(db: SqliteConnection): RpcRouteTable {
  return {
    async set(ns, method, socketId) {
      db.write(() => {
        db.run(
          'INSERT INTO rpc_routes (namespace, method, socket_id) VALUES (?, ?, ?) ON CONFLICT (namespace, method) DO UPDATE SET socket_id = excluded.socket_id',
          ns,
          method,
          socketId,
        );
      });
    },

    async delete(ns, method, socketId) {
      db.write(() => {
        db.run('DELETE FROM rpc_routes WHERE namespace = ? AND method = ? AND socket_id = ?', ns, method, socketId);
      });
    },

    async get(ns, method) {
      const row = db.get('SELECT socket_id FROM rpc_routes WHERE namespace = ? AND method = ?', ns, method);
      return row ? text(row, 'socket_id') : null;
    },
  };
}
