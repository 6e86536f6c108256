// Fork and rewind (POST /api/sessions/:id/fork|rewind): the CLI rewrites its own conversation
// history (RPC `fork-conversation` / `rewind-conversation`, 120 s). Upstream refuses while the agent
// is busy; CLI refusals come back as 409 `{error}` (rewind adds `hydrateFailed`).
import type { SessionRow } from '../../services/model.js';
import type { RpcGateway } from '../../services/rpc-gateway.js';
import type { SessionService } from '../../services/sessions.js';
import { fail, ok, rpcTransportReply, type WebReply } from './reply.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class SessionHistoryUseCase {
  constructor(
    private readonly sessions: SessionService,
    private readonly rpc: RpcGateway,
  ) {}

  private busy(row: SessionRow): boolean {
    return this.sessions.toWire(row).thinking;
  }

  async fork(row: SessionRow, messageLocalId: string | undefined): Promise<WebReply> {
    if (this.busy(row)) return fail(409, 'Session is busy');
    let reply: unknown;
    try {
      reply = await this.rpc.session(
        row.namespace,
        row.id,
        'fork-conversation',
        messageLocalId === undefined ? {} : { messageLocalId },
      );
    } catch (error) {
      return rpcTransportReply(error);
    }
    if (isRecord(reply) && typeof reply.error === 'string') return fail(409, reply.error);
    if (isRecord(reply) && typeof reply.sessionId === 'string') return ok({ sessionId: reply.sessionId });
    return fail(409, 'The session did not produce a fork');
  }

  async rewind(row: SessionRow, messageLocalId: string): Promise<WebReply> {
    if (this.busy(row)) return fail(409, 'Session is busy', { hydrateFailed: false });
    let reply: unknown;
    try {
      reply = await this.rpc.session(row.namespace, row.id, 'rewind-conversation', { messageLocalId });
    } catch (error) {
      return rpcTransportReply(error, { hydrateFailed: false });
    }
    if (isRecord(reply) && typeof reply.error === 'string') return fail(409, reply.error, { hydrateFailed: false });
    if (isRecord(reply) && reply.success === false)
      return fail(409, 'Rewind was refused by the session', { hydrateFailed: false });
    return ok({ success: true });
  }
}
