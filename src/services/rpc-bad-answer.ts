// A CLI answered an RPC with something the hub will not pass on (nested too deep to re-serialise,
// binary, ...): the web caller gets 502 `rpc_bad_answer` instead of whatever the value would break.
import type { DocumentProblem } from '../protocol/json-document.js';

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
