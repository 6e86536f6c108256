// HAPI_LIMIT_HISTORY_POLICY=drop-archived on a real hub (memory engine): a message over the
// namespace's historyBytes quota makes room by dropping the oldest messages of archived sessions
// (least recently updated first), says so in a metric, and is refused like under `refuse` once
// no archived message is left to drop. Sessions that are not archived are never touched.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { EventAckSchema } from '../../src/protocol/socket-events.js';
import { emitAck } from '../helpers/cli-client.js';
import { createSession, fetchAllMessages } from '../helpers/fixtures.js';
import { useWebWorld } from '../helpers/web-world.js';

const world = useWebWorld({ limits: { ...loadConfig({}).limits, historyPolicy: 'drop-archived' } });

const text = (label: string) => ({ role: 'agent', content: { type: 'output', data: label.padEnd(900, '.') } });

async function evictedIn(ns: string): Promise<number> {
  const metrics = await world.t.hub.metrics.registry.metrics();
  const line = metrics
    .split('\n')
    .find((l) => l.startsWith('hapi_limit_evicted_messages_total{') && l.includes(`namespace="${ns}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('history quota with drop-archived', () => {
  it('drops the oldest messages of archived sessions to make room, then refuses once there are none', async () => {
    const alice = await world.tenant('drop');
    await world.t.hub.services.limits.setOverrides(alice.ns, { historyBytes: 3000 });

    const archived = await createSession(alice.rest);
    const old = await alice.connect({ sessionId: archived.id });
    for (const label of ['a1', 'a2'])
      expect(
        EventAckSchema.parse(await emitAck(old, 'message', { sid: archived.id, message: text(label) })).result,
      ).toBe('ok');
    const archiving = await emitAck(old, 'update-metadata', {
      sid: archived.id,
      expectedVersion: 1,
      metadata: { lifecycleState: 'archived' },
    });
    expect(archiving).toMatchObject({ result: 'success', version: 2 });

    const live = await createSession(alice.rest);
    const socket = await alice.connect({ sessionId: live.id });
    const send = async (label: string) =>
      EventAckSchema.parse(await emitAck(socket, 'message', { sid: live.id, message: text(label) })).result;

    // 2 × ~930 bytes stored; the third fits, the fourth needs one archived message dropped.
    expect(await send('b1')).toBe('ok');
    expect(await evictedIn(alice.ns)).toBe(0);
    expect(await send('b2')).toBe('ok');
    expect((await fetchAllMessages(alice.rest, archived.id)).map((m) => m.content)).toEqual([text('a2')]);
    expect(await evictedIn(alice.ns)).toBe(1);

    expect(await send('b3')).toBe('ok');
    expect(await fetchAllMessages(alice.rest, archived.id)).toEqual([]);
    expect(await evictedIn(alice.ns)).toBe(2);

    // Nothing archived is left: refused as under `refuse`, and the live session keeps all it had.
    expect(EventAckSchema.parse(await emitAck(socket, 'message', { sid: live.id, message: text('b4') }))).toEqual({
      result: 'error',
      reason: 'quota-exceeded',
      limit: 'historyBytes',
      retryAfterMs: 60_000,
    });
    expect((await fetchAllMessages(alice.rest, live.id)).map((m) => m.content)).toEqual([
      text('b1'),
      text('b2'),
      text('b3'),
    ]);
  });
});
