// A session's scratchlist (upstream 0.30.7 `/api/sessions/:id/scratchlist*`): notes with optional
// attachments that the user keeps beside a session. Shapes and error codes are upstream's. The
// list of one session is one engine document (entries + uploaded attachment metadata); each
// attachment's bytes are a document of their own. Every worker reads and writes the same documents.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { DocumentRef, WebDocuments } from '../../services/web-documents.js';
import { fail, ok, type WebReply } from './reply.js';

export const SCRATCHLIST_TEXT_MAX = 10_000;
export const SCRATCHLIST_MAX_ENTRIES = 500;
export const SCRATCHLIST_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024;

export const ScratchlistAttachmentSchema = z.object({
  id: z.string().min(1),
  filename: z.string().min(1).max(255),
  mimeType: z.string().min(1).max(255),
  size: z.number().int().nonnegative(),
  path: z.string(),
});
export type ScratchlistAttachment = z.infer<typeof ScratchlistAttachmentSchema>;

export const ScratchlistEntrySchema = z.object({
  entryId: z.string(),
  text: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
  attachments: z.array(ScratchlistAttachmentSchema),
});
export type ScratchlistEntry = z.infer<typeof ScratchlistEntrySchema>;

const ScratchlistDocumentSchema = z.object({
  entries: z.array(ScratchlistEntrySchema),
  /** Uploaded attachments (referenced by an entry or not yet). */
  uploads: z.array(ScratchlistAttachmentSchema),
});
type ScratchlistDocument = z.infer<typeof ScratchlistDocumentSchema>;

const StoredBytesSchema = z.object({ mimeType: z.string(), filename: z.string(), base64: z.string() });

export const CreateEntryBodySchema = z
  .object({
    text: z.string().max(SCRATCHLIST_TEXT_MAX).optional(),
    attachments: z.array(ScratchlistAttachmentSchema).max(20).optional(),
  })
  .superRefine((body, issues) => {
    if (!(body.text ?? '').trim() && (body.attachments ?? []).length === 0) {
      issues.addIssue({ code: 'custom', path: ['text'], message: 'Scratchlist entry requires text or attachments' });
    }
  });

export const UpdateEntryBodySchema = z
  .object({
    text: z.string().max(SCRATCHLIST_TEXT_MAX).optional(),
    attachments: z.array(ScratchlistAttachmentSchema).max(20).optional(),
  })
  .superRefine((body, issues) => {
    if (body.text === undefined && body.attachments === undefined) {
      issues.addIssue({ code: 'custom', path: ['text'], message: 'Update requires text and/or attachments' });
    }
  });

export const UploadBodySchema = z.object({
  filename: z.string().min(1).max(255),
  content: z.string().min(1),
  mimeType: z.string().min(1).max(255),
});

const EMPTY: ScratchlistDocument = { entries: [], uploads: [] };

const listKey = (ns: string, sid: string): DocumentRef => ({ ns, owner: sid, name: 'scratchlist' });
const bytesKey = (ns: string, sid: string, id: string): DocumentRef => ({
  ns,
  owner: sid,
  name: `scratchlist-attachment:${id}`,
});

type Outcome<T> = { ok: true; value: T } | { ok: false; reply: WebReply };

/** Tells the session's viewers the list changed (upstream: `session-updated {scratchlistUpdatedAt}`). */
export type ScratchlistChanged = (ns: string, sid: string, at: number) => Promise<void>;

export class ScratchlistUseCase {
  constructor(
    private readonly documents: WebDocuments,
    private readonly now: () => number,
    private readonly changed: ScratchlistChanged = async () => undefined,
  ) {}

  private async announce(ns: string, sid: string, reply: WebReply): Promise<WebReply> {
    if (reply.status < 300) await this.changed(ns, sid, this.now());
    return reply;
  }

  async list(ns: string, sid: string): Promise<ScratchlistEntry[]> {
    return (await this.documents.read(listKey(ns, sid), ScratchlistDocumentSchema, EMPTY)).entries;
  }

  /** Attachments named by an entry must be this session's uploads; the stored copy is used. */
  private resolveAttachments(
    doc: ScratchlistDocument,
    wanted: ScratchlistAttachment[] | undefined,
  ): Outcome<ScratchlistAttachment[]> {
    const resolved: ScratchlistAttachment[] = [];
    for (const attachment of wanted ?? []) {
      const upload = doc.uploads.find((u) => u.id === attachment.id);
      if (!upload)
        return {
          ok: false,
          reply: fail(400, 'Invalid scratchlist attachment id', { code: 'scratchlist_attachment_invalid' }),
        };
      resolved.push(upload);
    }
    return { ok: true, value: resolved };
  }

  async create(ns: string, sid: string, body: z.infer<typeof CreateEntryBodySchema>): Promise<WebReply> {
    return this.announce(
      ns,
      sid,
      await this.documents.update(listKey(ns, sid), ScratchlistDocumentSchema, EMPTY, (doc) => {
        if (doc.entries.length >= SCRATCHLIST_MAX_ENTRIES) {
          return {
            value: undefined,
            result: fail(409, `Scratchlist holds at most ${SCRATCHLIST_MAX_ENTRIES} entries`, {
              code: 'scratchlist_at_cap',
            }),
          };
        }
        const attachments = this.resolveAttachments(doc, body.attachments);
        if (!attachments.ok) return { value: undefined, result: attachments.reply };
        const at = this.now();
        const entry: ScratchlistEntry = {
          entryId: randomUUID(),
          text: body.text ?? '',
          createdAt: at,
          updatedAt: at,
          attachments: attachments.value,
        };
        return { value: { ...doc, entries: [...doc.entries, entry] }, result: { status: 201, body: { entry } } };
      }),
    );
  }

  async update(
    ns: string,
    sid: string,
    entryId: string,
    body: z.infer<typeof UpdateEntryBodySchema>,
  ): Promise<WebReply> {
    return this.announce(
      ns,
      sid,
      await this.documents.update(listKey(ns, sid), ScratchlistDocumentSchema, EMPTY, (doc) => {
        const current = doc.entries.find((e) => e.entryId === entryId);
        if (!current) return { value: undefined, result: fail(404, 'Scratchlist entry not found') };
        const attachments =
          body.attachments === undefined
            ? ({ ok: true, value: current.attachments } as const)
            : this.resolveAttachments(doc, body.attachments);
        if (!attachments.ok) return { value: undefined, result: attachments.reply };
        const text = body.text ?? current.text;
        if (!text.trim() && attachments.value.length === 0) {
          return {
            value: undefined,
            result: fail(400, 'Invalid body', {
              issues: [{ code: 'custom', path: ['text'], message: 'Scratchlist entry requires text or attachments' }],
            }),
          };
        }
        const entry: ScratchlistEntry = { ...current, text, attachments: attachments.value, updatedAt: this.now() };
        return {
          value: { ...doc, entries: doc.entries.map((e) => (e.entryId === entryId ? entry : e)) },
          result: ok({ entry }),
        };
      }),
    );
  }

  async remove(ns: string, sid: string, entryId: string): Promise<WebReply> {
    return this.announce(
      ns,
      sid,
      await this.documents.update(listKey(ns, sid), ScratchlistDocumentSchema, EMPTY, (doc) => {
        if (!doc.entries.some((e) => e.entryId === entryId))
          return { value: undefined, result: fail(404, 'Scratchlist entry not found') };
        return { value: { ...doc, entries: doc.entries.filter((e) => e.entryId !== entryId) }, result: ok() };
      }),
    );
  }

  async upload(ns: string, sid: string, body: z.infer<typeof UploadBodySchema>): Promise<WebReply> {
    const estimated = Math.floor((body.content.length * 3) / 4);
    if (estimated > SCRATCHLIST_ATTACHMENT_MAX_BYTES) {
      return fail(413, `File too large (max ${SCRATCHLIST_ATTACHMENT_MAX_BYTES / 1024 / 1024}MB)`, {
        success: false,
        code: 'scratchlist_attachment_too_large',
      });
    }
    const bytes = Buffer.from(body.content, 'base64');
    const id = randomUUID();
    const attachment: ScratchlistAttachment = {
      id,
      filename: body.filename,
      mimeType: body.mimeType,
      size: bytes.length,
      path: `hapi-hub:scratchlist/${ns}/${sid}/${id}-${body.filename}`,
    };
    await this.documents.update(
      bytesKey(ns, sid, id),
      StoredBytesSchema,
      { mimeType: '', filename: '', base64: '' },
      () => ({
        value: { mimeType: body.mimeType, filename: body.filename, base64: bytes.toString('base64') },
        result: null,
      }),
    );
    await this.documents.update(listKey(ns, sid), ScratchlistDocumentSchema, EMPTY, (doc) => ({
      value: { ...doc, uploads: [...doc.uploads, attachment] },
      result: null,
    }));
    return ok({ success: true, attachment });
  }

  /** The attachment's bytes, or null when this session has no such attachment. */
  async download(
    ns: string,
    sid: string,
    id: string,
  ): Promise<{ bytes: Buffer; mimeType: string; filename: string } | null> {
    const doc = await this.documents.read(listKey(ns, sid), ScratchlistDocumentSchema, EMPTY);
    if (!doc.uploads.some((u) => u.id === id)) return null;
    const stored = await this.documents.read(bytesKey(ns, sid, id), StoredBytesSchema.nullable(), null);
    return stored
      ? { bytes: Buffer.from(stored.base64, 'base64'), mimeType: stored.mimeType, filename: stored.filename }
      : null;
  }

  async removeAttachment(ns: string, sid: string, id: string): Promise<WebReply> {
    const reply = await this.documents.update(listKey(ns, sid), ScratchlistDocumentSchema, EMPTY, (doc) => {
      if (!doc.uploads.some((u) => u.id === id)) return { value: undefined, result: fail(404, 'Attachment not found') };
      if (doc.entries.some((e) => e.attachments.some((a) => a.id === id))) {
        return {
          value: undefined,
          result: fail(409, 'Attachment is still referenced by a scratchlist entry', {
            code: 'scratchlist_attachment_in_use',
          }),
        };
      }
      return { value: { ...doc, uploads: doc.uploads.filter((u) => u.id !== id) }, result: ok() };
    });
    if (reply.status === 200) await this.documents.remove(bytesKey(ns, sid, id));
    return reply;
  }
}
