// GET /api/sessions/:id/export: the whole session as one JSON document (upstream 0.30.7's
// schemaVersion 2: the Session, every message in position order, the scratchlist). Messages are
// read page by page through the message service, so the export is the same from any worker.
import type { SessionRow } from '../../services/model.js';
import type { WebMessage } from '../../protocol/models.js';
import type { MessagePages } from '../../services/message-pages.js';
import type { SessionService } from '../../services/sessions.js';
import { fail, ok, type WebReply } from './reply.js';
import type { ScratchlistUseCase } from './scratchlist.js';

export const EXPORT_SCHEMA_VERSION = 2;
/** Above this the client must ask again with `?force=true` (upstream's 413 contract). */
export const EXPORT_MAX_BYTES = 50 * 1024 * 1024;
const PAGE = 200;
/** Bounds the page loop: 200 × 50 000 messages is far beyond any session. */
const MAX_PAGES = 50_000;

export class SessionExportUseCase {
  constructor(
    private readonly sessions: SessionService,
    private readonly pages: MessagePages,
    private readonly scratchlist: ScratchlistUseCase,
    private readonly now: () => number,
  ) {}

  private async allMessages(ns: string, sid: string): Promise<WebMessage[]> {
    const messages: WebMessage[] = [];
    // Every row sits after position (at 0, seq 1): rows are stamped with wall-clock times.
    let after = { afterSeq: 1, afterAt: 0 };
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const res = await this.pages.page(ns, sid, { limit: PAGE, ...after });
      messages.push(...res.messages);
      const next =
        res.page.nextAfterSeq !== null && res.page.nextAfterAt !== null
          ? { afterSeq: res.page.nextAfterSeq, afterAt: res.page.nextAfterAt }
          : null;
      if (!res.page.hasMore || next === null || (next.afterSeq === after.afterSeq && next.afterAt === after.afterAt))
        break;
      after = next;
    }
    return messages;
  }

  async export(row: SessionRow, force: boolean): Promise<WebReply> {
    const messages = await this.allMessages(row.namespace, row.id);
    const document = {
      schemaVersion: EXPORT_SCHEMA_VERSION,
      exportedAt: this.now(),
      session: { hasConversationContent: messages.length > 0, ...this.sessions.toWire(row) },
      messages,
      scratchlist: await this.scratchlist.list(row.namespace, row.id),
    };
    if (!force) {
      const estimatedBytes = Buffer.byteLength(JSON.stringify(document));
      if (estimatedBytes > EXPORT_MAX_BYTES) {
        return fail(413, 'Session export is too large', {
          code: 'session_export_too_large',
          count: messages.length,
          estimatedBytes,
          maxBytes: EXPORT_MAX_BYTES,
        });
      }
    }
    return ok(document);
  }
}
