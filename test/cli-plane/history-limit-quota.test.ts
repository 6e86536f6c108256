// HAPI_MESSAGE_HISTORY_LIMIT with a historyBytes quota on a real hub (memory engine): the rows the
// engine trims to keep each session's newest N give their bytes back, so a namespace that writes
// far more than its quota over time is never refused while what it stores fits.
import { describe, expect, it } from 'vitest';
import { EventAckSchema } from '../../src/protocol/socket-events.js';
import { emitAck } from '../helpers/cli-client.js';
import { createSession, fetchAllMessages } from '../helpers/fixtures.js';
import { historyUsage } from '../helpers/hub.js';
import { useWebWorld } from '../helpers/web-world.js';

const world = useWebWorld({ messageHistoryLimit: 2 });

const text = (n: number) => ({ role: 'agent', content: { type: 'output', data: `${n}`.padEnd(900, '.') } });

describe('history limit and the history quota', () => {
  it('ten ~930-byte messages under a 3000-byte quota are all stored; usage is what the two kept rows count', async () => {
    const alice = await world.tenant('trimmed');
    await world.t.hub.services.limits.setOverrides(alice.ns, { historyBytes: 3000 });
    const session = await createSession(alice.rest);
    const socket = await alice.connect({ sessionId: session.id });
    const results: string[] = [];
    for (let i = 0; i < 10; i += 1)
      results.push(
        EventAckSchema.parse(await emitAck(socket, 'message', { sid: session.id, message: text(i) })).result,
      );
    expect(results).toEqual(Array(10).fill('ok'));

    const kept = await fetchAllMessages(alice.rest, session.id);
    expect(kept.map((m) => m.content)).toEqual([text(8), text(9)]);
    const limits = world.t.hub.services.limits;
    const stored = kept.reduce((sum, message) => sum + limits.messageBytes(message.content), 0);
    expect(stored).toBeGreaterThan(1800);
    expect(await historyUsage(world.t, alice.ns)).toBe(stored);
  });
});
