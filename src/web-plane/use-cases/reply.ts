// The outcome of a web-plane operation: HTTP status + JSON body. The web services produce these
// because the status/code table is part of the contract each operation implements (see
// docs/protocol.md#web-api); the routes only copy them onto the response.
import { failureReply, type HttpReply } from '../../http/reply.js';
import { EngineUnavailableError } from '../../services/errors.js';

export { fail, ok } from '../../http/reply.js';
export type WebReply = HttpReply;

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * RPC transport failure → 503 `rpc_target_missing` / 504 `rpc_timeout` (docs/protocol.md#rpc-transport-failures:
 * where upstream let the failure escape as a plain-text 500); an answer the hub refuses to pass
 * on → 502 `rpc_bad_answer`. `extra` lets RPC-shaped routes keep
 * `success:false`. Anything else is not a transport failure and is rethrown.
 */
export function rpcTransportReply(error: unknown, extra: Record<string, unknown> = {}): WebReply {
  if (error instanceof EngineUnavailableError) throw error;
  const reply = failureReply(error, extra);
  if (reply === null) throw error;
  return reply;
}
