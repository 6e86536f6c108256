// RPC route values: `<socket id>` (one process) or `<socket id>@<worker id>` (a cluster whose
// Socket.IO adapter can send a call to one worker: src/cluster/directed-rpc.ts). Socket ids
// never contain '@'.

/** What the gateway needs of an adapter that supports directed RPC (found by shape). */
export interface DirectedRpcAdapter {
  workerId: string;
  rpcAddress(socketId: string): string;
  requestRpcOn(
    workerId: string,
    socketId: string,
    payload: { method: string; params: string },
    timeoutMs: number,
  ): Promise<{ kind: 'answered'; response: unknown } | { kind: 'no-socket' } | { kind: 'timeout' }>;
}

export function directedRpcOf(adapter: unknown): DirectedRpcAdapter | null {
  const candidate = adapter as Partial<DirectedRpcAdapter> | null;
  return candidate && typeof candidate.rpcAddress === 'function' && typeof candidate.requestRpcOn === 'function'
    ? (candidate as DirectedRpcAdapter)
    : null;
}

export function parseRpcAddress(address: string): { socketId: string; workerId?: string } {
  const at = address.lastIndexOf('@');
  return at < 0 ? { socketId: address } : { socketId: address.slice(0, at), workerId: address.slice(at + 1) };
}
