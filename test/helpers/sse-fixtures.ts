// Shared set-up for the SSE plane tests: a real hub (memory engine) plus helpers to get a JWT,
// produce events and compute what ids should look like.
import { createHash, randomUUID } from 'node:crypto';
import type { BroadcastEvent } from '../../src/protocol/sync-events.js';
import { startTestHub, type TestHub, type TestHubOptions } from './hub.js';

export { startTestHub, type TestHub, type TestHubOptions };

/** A JWT for `namespace` (registered first: the JWT check requires a known namespace). */
export async function jwtFor(t: TestHub, namespace: string): Promise<string> {
  await t.engine.namespaces.register(namespace, Date.now());
  return t.hub.services.auth.issueJwt(namespace);
}

/** The tag every id of `namespace` under `epoch` must carry. */
export function expectedTag(epoch: string, namespace: string): string {
  return createHash('sha256').update(`${epoch}|${namespace}`).digest('hex').slice(0, 8);
}

/** Appends an event through the hub's event feed, as services do. */
export function publish(t: TestHub, namespace: string, event: BroadcastEvent): Promise<void> {
  return t.hub.services.deps.events.publish(namespace, event);
}

/** A `session-updated` event carrying a marker, handy to tell events apart. */
export function marker(sessionId: string, n: number, padding = 0): BroadcastEvent {
  return { type: 'session-updated', sessionId, data: { n, ...(padding > 0 ? { pad: 'x'.repeat(padding) } : {}) } };
}

export function messageReceived(sessionId: string, text: string): BroadcastEvent {
  return {
    type: 'message-received',
    sessionId,
    message: {
      id: randomUUID(),
      seq: 1,
      localId: null,
      content: { role: 'user', text },
      createdAt: Date.now(),
      invokedAt: Date.now(),
    },
  };
}

/** Creates a session through the real service (publishes `session-added`); returns its id. */
export async function createSession(t: TestHub, namespace: string, machineId?: string): Promise<string> {
  const outcome = await t.hub.services.sessions.createOrLoad(namespace, {
    tag: `tag-${randomUUID()}`,
    metadata: { path: '/tmp', host: 'test' },
    ...(machineId ? { machine: { id: machineId, metadata: { host: 'test' } } } : {}),
  });
  if (!outcome.ok) throw new Error(`createOrLoad failed: ${outcome.error}`);
  return outcome.session.id;
}

/** Registers a machine through the real service; returns its id. */
export async function createMachine(t: TestHub, namespace: string): Promise<string> {
  const id = `machine-${randomUUID()}`;
  await t.hub.services.machines.createOrLoad(namespace, { id, metadata: { host: 'test' }, runnerState: null });
  return id;
}

/** The current epoch and head of a namespace's log. */
export async function logHead(
  t: TestHub,
  namespace: string,
): Promise<{ epoch: string; nextOffset: number; oldestOffset: number }> {
  const read = await t.engine.events.read(namespace, Number.MAX_SAFE_INTEGER);
  return { epoch: read.epoch, nextOffset: read.nextOffset, oldestOffset: read.oldestOffset };
}

export function eventId(epoch: string, offset: number, namespace: string): string {
  return `${epoch}:${offset}:${expectedTag(epoch, namespace)}`;
}
