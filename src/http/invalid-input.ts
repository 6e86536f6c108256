// The JSON answer to a request whose body or query failed its schema: 400 `{error, issues}`, or
// the document-limit answer (413/400 with a `code`) when an opaque document broke a limit.
import type { z } from 'zod';
import { documentRefusal } from '../protocol/json-document.js';

export interface InvalidInputReply {
  status: number;
  body: { error: string; code?: string; issues: z.core.$ZodIssue[] };
}

export function invalidInputReply(error: string, issues: z.core.$ZodIssue[]): InvalidInputReply {
  const refusal = documentRefusal(issues);
  if (refusal === null) return { status: 400, body: { error, issues } };
  return {
    status: refusal.status,
    body: { error: refusal.status === 413 ? 'Document too large' : error, code: refusal.code, issues },
  };
}
