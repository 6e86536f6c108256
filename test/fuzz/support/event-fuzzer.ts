// Runs /cli event cases against a fuzz world: each case is emitted on a real socket.io-client
// socket of alice's (with an ack, or without one followed by a `ping` barrier), and must be
// answered within a bounded wait with the event's ack shape; an error ack must leave alice's
// state exactly as it was. Bob's state is compared once per property.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import type { Socket } from 'socket.io-client';
import { expect } from 'vitest';
import { connectCli, emitAckArgsWithin } from '../../helpers/cli-client.js';
import { ackSchemaFor, eventCase, isErrorAck, resolvePayload, type EventCase } from './event-cases.js';
import { checkAsyncProperty } from './fuzz-run.js';
import type { FuzzWorld } from './fuzz-world.js';

export const ACK_WAIT_MS = 5_000;

export async function fuzzEvents(world: FuzzWorld, events: readonly string[], runsPerEvent: number): Promise<void> {
  const { alice, bob, t } = world;
  const socket: Socket = await connectCli(t.url, { token: alice.token });
  try {
    const bobBefore = await world.snapshot(bob.ns);
    const bobRpcBefore = bob.rpcLog.length;
    const bobUpdatesBefore = bob.updates.length;
    for (const event of events) {
      const withAck = fc.tuple(eventCase(event), fc.integer({ min: 0, max: 9 }));
      await checkAsyncProperty(
        `event ${event}`,
        withAck,
        async ([c, roll]: [EventCase, number]) => {
          await world.restore(alice);
          const payload = resolvePayload(c.payload, {
            sid: alice.sessionId,
            mid: alice.machineId,
            fresh: randomUUID(),
            now: t.clock.now,
          });
          const before = await world.snapshot(alice.ns);
          if (!socket.connected) throw new Error('the fuzz socket was disconnected by the hub');
          if (roll === 0 && event !== 'ping') {
            // Without an ack: nothing to wait for but the ordered ping barrier after it.
            if (c.hasPayload) socket.emit(event, payload);
            else socket.emit(event);
            expect(await emitAckArgsWithin(ACK_WAIT_MS, socket, 'ping')).toEqual([]);
            return;
          }
          const args = c.hasPayload
            ? await emitAckArgsWithin(ACK_WAIT_MS, socket, event, payload)
            : await emitAckArgsWithin(ACK_WAIT_MS, socket, event);
          if (event === 'ping') {
            expect(args).toEqual([]);
            return;
          }
          if (args.length !== 1) throw new Error(`${event} answered ${args.length} ack arguments: ${safeJson(args)}`);
          if (!ackSchemaFor(event).safeParse(args[0]).success)
            throw new Error(`${event} ack ${safeJson(args[0])} has the wrong shape (payload ${safeJson(payload)})`);
          if (isErrorAck(args[0])) {
            const after = await world.snapshot(alice.ns);
            if (!isDeepStrictEqual(after, before))
              expect(after, `${event} refused but state changed: ${safeJson(payload)}`).toEqual(before);
          }
        },
        runsPerEvent,
      );
    }
    expect(await world.healthy()).toBe(true);
    expect(socket.connected).toBe(true);
    expect(await world.snapshot(bob.ns)).toEqual(bobBefore);
    expect(bob.rpcLog.slice(bobRpcBefore), 'RPC requests reached the other tenant').toEqual([]);
    expect(bob.updates.slice(bobUpdatesBefore), 'updates reached the other tenant').toEqual([]);
  } finally {
    socket.close();
  }
}

export function safeJson(value: unknown): string {
  try {
    return (JSON.stringify(value) ?? String(value)).slice(0, 300);
  } catch {
    return '(unprintable)';
  }
}
