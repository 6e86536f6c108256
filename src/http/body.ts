// JSON body reading with an explicit size limit. Malformed JSON reads as null (as upstream), so
// the route's schema rejects it with its own 400. JSON.parse itself is iterative (a body nested
// 1,000,000 deep parses); what recursive code must not see is refused by the schemas' document
// limits (src/protocol/json-document.ts) before anything copies or re-serialises it.
import type { Context } from 'koa';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`Request body exceeds ${limit} bytes`);
  }
}

export async function readJsonBody(ctx: Context, limit: number): Promise<unknown> {
  const declared = Number(ctx.get('content-length') || '0');
  if (declared > limit) throw new BodyTooLargeError(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLargeError(limit);
    chunks.push(chunk);
  }
  if (size === 0) return null;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return null;
  }
}
