// Concurrent writers: per-session seq stays gap-free and localId dedupe holds.
import { describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { emitAck, pingBarrier } from '../helpers/cli-client.js';
import { createSession, fetchAllMessages, sessionMetadata } from '../helpers/fixtures.js';
import { useCliWorld } from './world.js';

const world = useCliWorld();

const SOCKETS = 5;
const PER_SOCKET = 40;

describe('concurrency', () => {
  it('seq is gap-free (1..N, no duplicates) under concurrent message sends from several sockets', async () => {
    const { alice } = world;
    const session = await createSession(alice.rest);
    const sockets: Socket[] = await Promise.all(
      Array.from({ length: SOCKETS }, () => alice.connect({ sessionId: session.id })),
    );
    sockets.forEach((socket, s) => {
      for (let i = 0; i < PER_SOCKET; i += 1)
        socket.emit('message', {
          sid: session.id,
          message: { role: 'agent', content: { type: 'output', data: { s, i } } },
        });
    });
    await Promise.all(sockets.map(pingBarrier));

    const messages = await fetchAllMessages(alice.rest, session.id);
    const total = SOCKETS * PER_SOCKET;
    expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(new Set(messages.map((m) => m.id)).size).toBe(total);
    // Every message is there once, and each socket's messages keep their sending order.
    for (let s = 0; s < SOCKETS; s += 1) {
      const mine = messages
        .map((m) => (m.content as { content: { data: { s: number; i: number } } }).content.data)
        .filter((d) => d.s === s);
      expect(mine.map((d) => d.i)).toEqual(Array.from({ length: PER_SOCKET }, (_, i) => i));
    }
  });

  it('localId dedupe holds under concurrent sends with the same localId (one row)', async () => {
    const { alice } = world;
    const session = await createSession(alice.rest);
    const sockets = await Promise.all(Array.from({ length: SOCKETS }, () => alice.connect()));
    for (let round = 0; round < 3; round += 1) {
      for (const socket of sockets)
        socket.emit('message', {
          sid: session.id,
          localId: 'same-local-id',
          message: { role: 'user', content: { type: 'text', text: 'once' } },
        });
    }
    sockets[0]!.emit('message', {
      sid: session.id,
      localId: 'other-local-id',
      message: { role: 'user', content: { type: 'text', text: 'twice' } },
    });
    await Promise.all(sockets.map(pingBarrier));
    const messages = await fetchAllMessages(alice.rest, session.id);
    expect(messages.map((m) => [m.seq, m.localId])).toEqual([
      [1, 'same-local-id'],
      [2, 'other-local-id'],
    ]);
  });

  it('localId dedupe holds for concurrent web prompts too', async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    const rows = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.hub.services.messages.sendFromWeb(alice.ns, session.id, { text: 'hi', localId: 'web-1' }),
      ),
    );
    expect(new Set(rows.map((r) => r?.id)).size).toBe(1);
    expect((await fetchAllMessages(alice.rest, session.id)).map((m) => m.localId)).toEqual(['web-1']);
  });

  it('concurrent versioned writes: exactly one winner per version, the rest see version-mismatch', async () => {
    const { alice } = world;
    const session = await createSession(alice.rest);
    const sockets = await Promise.all(Array.from({ length: SOCKETS }, () => alice.connect()));
    const acks = await Promise.all(
      sockets.map((socket, i) =>
        emitAck<{ result: string; version: number }>(socket, 'update-metadata', {
          sid: session.id,
          expectedVersion: 1,
          metadata: sessionMetadata({ writer: i }),
        }),
      ),
    );
    expect(acks.filter((a) => a.result === 'success')).toEqual([expect.objectContaining({ version: 2 })]);
    expect(acks.filter((a) => a.result === 'version-mismatch').map((a) => a.version)).toEqual(
      Array(SOCKETS - 1).fill(2),
    );
  });
});
