// The domain's failures that transports translate: one vocabulary, mapped to HTTP in
// http/errors.ts and web-plane/use-cases/reply.ts and to socket acks in cli-plane. The engine's
// outage error is re-exported here so transports never import the engine.
import type { DocumentProblem } from '../protocol/json-document.js';

export { EngineUnavailableError } from '../engine/types.js';

/** The CLI socket that should answer an RPC is not registered or no longer connected. */
export class RpcTargetMissingError extends Error {
  readonly code = 'rpc_target_missing';
  constructor(
    readonly reason: 'handler-not-registered' | 'socket-disconnected',
    method: string,
  ) {
    super(
      reason === 'handler-not-registered'
        ? `RPC handler not registered: ${method}`
        : `RPC socket disconnected: ${method}`,
    );
    this.name = 'RpcTargetMissingError';
  }
}

export class RpcTimeoutError extends Error {
  readonly code = 'rpc_timeout';
  constructor(method: string, timeoutMs: number) {
    super(`RPC timed out after ${timeoutMs} ms: ${method}`);
    this.name = 'RpcTimeoutError';
  }
}

/**
 * A CLI answered an RPC with something the hub will not pass on (nested too deep to re-serialise,
 * binary, ...): the web caller gets 502 `rpc_bad_answer` instead of whatever the value would break.
 */
export class RpcBadAnswerError extends Error {
  readonly code = 'rpc_bad_answer';
  constructor(
    method: string,
    readonly problem: DocumentProblem,
  ) {
    super(`RPC answer refused (${problem}): ${method}`);
    this.name = 'RpcBadAnswerError';
  }
}

/** The machine a call was addressed to is not in the namespace: the routes' 404 (ids are per namespace). */
export class MachineNotFoundError extends Error {
  constructor() {
    super('Machine not found');
    this.name = 'MachineNotFoundError';
  }
}

/**
 * A tenant is over one of its limits (config/limits.ts): HTTP 429 with Retry-After, socket acks
 * `{result:'error', reason, retryAfterMs?}` (docs/protocol.md#limits).
 */
export class LimitExceededError extends Error {
  readonly code: 'rate_limited' | 'quota_exceeded';
  constructor(
    readonly reason: 'rate-limited' | 'quota-exceeded',
    readonly limit: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(reason === 'rate-limited' ? `Rate limit exceeded: ${limit}` : `Quota exceeded: ${limit}`);
    this.name = 'LimitExceededError';
    this.code = reason === 'rate-limited' ? 'rate_limited' : 'quota_exceeded';
  }
}
