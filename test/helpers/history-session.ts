// A live session whose CLI stand-in offers conversation-history actions (fork/rewind), and one
// prompt-and-reply turn on it: shared by the fork/rewind tests.
import { expect } from 'vitest';
import { pingBarrier } from './cli-client.js';
import { sessionMetadata } from './fixtures.js';
import type { LiveSession, Runner, WebTenant } from './web-world.js';

export type HistoryCapabilities = { forkCurrent?: boolean; forkAtMessage?: boolean; rewindToMessage?: boolean };

export async function historySession(
  tenant: WebTenant,
  runner: Runner,
  history: HistoryCapabilities,
  extra: Record<string, unknown> = {},
): Promise<LiveSession> {
  return tenant.liveSession({
    metadata: sessionMetadata({
      machineId: runner.machine.id,
      name: 'Refactor',
      capabilities: { conversationHistory: history },
      conversationHistoryPoints: { l1: true, l2: true },
      ...extra,
    }),
    model: 'sonnet',
  });
}

/** A web prompt (localId) the CLI consumed, then the agent's reply. */
export async function turn(tenant: WebTenant, live: LiveSession, localId: string, text: string): Promise<void> {
  const sid = live.session.id;
  expect((await tenant.api.post(`/api/sessions/${sid}/messages`, { text, localId })).status).toBe(200);
  // Consuming ends the queued-thinking grace the send started (as the CLI reports it).
  live.socket.emit('messages-consumed', { sid, localIds: [localId], clearQueuedThinkingGrace: true });
  live.socket.emit('message', { sid, message: { role: 'agent', content: { type: 'text', text: `re: ${text}` } } });
  await pingBarrier(live.socket);
}
