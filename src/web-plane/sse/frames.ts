// SSE wire framing (docs/protocol.md#framing): `data: <one-line JSON>\n`, then `id: <eventId>\n` for logged
// events, then a blank line. No `event:` and no `retry:` field, as upstream.
//
// A frame is encoded to bytes once and the same Buffer is queued on every connection that gets
// it: sockets keep a reference to a written Buffer instead of copying it, so a thousand
// subscribers of one namespace share one copy of each event.
import type { ResumeVerdict } from './resume.js';

export interface Frame {
  /** SyncEvent type, for the events-out metric. */
  readonly type: string;
  readonly data: Buffer;
}

/** A logged (replayable) event; `line` must already be one-line JSON. */
export function loggedFrame(type: string, line: string, eventId: string): Frame {
  return { type, data: Buffer.from(`data: ${line}\nid: ${eventId}\n\n`, 'utf8') };
}

/** Per-connection frames that are not in the log and so carry no id. */
function unloggedFrame(type: string, event: Record<string, unknown>): Frame {
  return { type, data: Buffer.from(`data: ${JSON.stringify(event)}\n\n`, 'utf8') };
}

export function connectionChangedFrame(subscriptionId: string, resume: ResumeVerdict): Frame {
  // No namespace field, as upstream's handshake frame.
  return unloggedFrame('connection-changed', {
    type: 'connection-changed',
    data: { status: 'connected', subscriptionId, resume },
  });
}

export function heartbeatFrame(namespace: string, timestamp: number): Frame {
  return unloggedFrame('heartbeat', { type: 'heartbeat', namespace, data: { timestamp } });
}
