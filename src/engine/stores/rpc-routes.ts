// The RPC route table: which socket answers a method, cluster-wide.
export interface RpcRouteTable {
  /** Routes are per namespace: (ns, method) → socket id. Last registration wins. */
  set(ns: string, method: string, socketId: string): Promise<void>;
  /** Removes the route only if it still points at socketId. */
  delete(ns: string, method: string, socketId: string): Promise<void>;
  get(ns: string, method: string): Promise<string | null>;
}
