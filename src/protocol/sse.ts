// Inbound shapes of the SSE plane: the GET /api/events query and the POST /api/visibility body
// (upstream `hub/src/web/routes/events.ts`).
import { z } from 'zod';

/** Koa gives repeated query keys as arrays; like upstream (`c.req.query(name)`) take the first. */
const firstValue = (value: unknown): unknown => (Array.isArray(value) ? (value as unknown[])[0] : value);

const queryString = z.preprocess(firstValue, z.string().optional());

/** Ids are used as given (not trimmed), but a blank value counts as absent, as upstream. */
const optionalId = queryString.transform((value) => (value !== undefined && value.trim() !== '' ? value : undefined));

/**
 * Never rejects: every field has upstream's lenient reading (unknown `all`/`visibility` values
 * mean false/hidden). Other keys (notably `token`) are ignored.
 */
export const EventsQuerySchema = z.object({
  all: queryString.transform((value) => value === 'true' || value === '1'),
  sessionId: optionalId,
  machineId: optionalId,
  visibility: queryString.transform((value): Visibility => (value === 'visible' ? 'visible' : 'hidden')),
  lastEventId: optionalId,
});
export type EventsQuery = z.infer<typeof EventsQuerySchema>;

export const VisibilitySchema = z.enum(['visible', 'hidden']);
export type Visibility = z.infer<typeof VisibilitySchema>;

export const VisibilityBodySchema = z.object({
  subscriptionId: z.string().min(1),
  visibility: VisibilitySchema,
});
export type VisibilityBody = z.infer<typeof VisibilityBodySchema>;
