// Raw engine.io/socket.io frames over a real websocket and real HTTP long-polling (memory
// engine): well-formed event frames with fuzzed payload text (up to 100,000-deep JSON, numeric and
// unknown event names) must each get exactly one ack; malformed frames may cost the sender its
// connection but nothing else — the hub stays up, nothing is stored, others keep working.
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRawCli, type RawCli, type RawTransport } from '../helpers/raw-socketio.js';
import { deepJsonTextUpTo, hostileString, jsonValue, nestedText } from './support/arbitraries.js';
import { FUZZED_EVENTS } from './support/event-cases.js';
import { checkAsyncProperty, reportFuzzCounts } from './support/fuzz-run.js';
import { startFuzzWorld, type FuzzWorld } from './support/fuzz-world.js';

const ACK_WAIT_MS = 5_000;
const RUNS = { websocket: { events: 400, malformed: 300 }, polling: { events: 200, malformed: 150 } };

let world: FuzzWorld;
beforeAll(async () => {
  world = await startFuzzWorld();
});
afterAll(async () => {
  reportFuzzCounts('raw-packets (memory)');
  await world?.close();
});

const deepDoc = deepJsonTextUpTo(100_000);
const SID_TEXT = '@@SID@@';

/** Payload JSON text: ordinary values, documents far too deep, and known shapes with a deep field. */
const payloadText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: jsonValue(3).map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: deepDoc },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom('metadata', 'agentState', 'runnerState', 'message', 'health'), deepDoc)
      .map(
        ([field, deep]) =>
          `{"sid":"${SID_TEXT}","machineId":"${SID_TEXT}","expectedVersion":1,"time":1,"${field}":${deep}}`,
      ),
  },
);

const eventName: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...FUZZED_EVENTS).map((name) => JSON.stringify(name)) },
  { weight: 1, arbitrary: hostileString.map((name) => JSON.stringify(name)) },
  { weight: 1, arbitrary: fc.integer({ min: -5, max: 1e9 }).map(String) },
);

interface EventFrame {
  name: string;
  /** Undefined: the event without a payload argument. */
  payload: string | undefined;
}
const eventFrame: fc.Arbitrary<EventFrame> = fc.record({
  name: eventName,
  payload: fc.option(payloadText, { nil: undefined }),
});

/** Frames a broken or hostile client might send (the hub may drop that connection). */
const malformedFrame: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '4',
    '42',
    '42/cli',
    '42/cli,',
    '42/cli,[',
    '42/cli,{}',
    '42/cli,[]',
    '42/cli,"x"',
    '42/cli,[null]',
    '42/cli,[{}]',
    '43/cli,',
    '43/cli,7[]',
    '43/cli,-1["x"]',
    '41/cli,',
    '40/cli,{"token":1}',
    '49/cli,[]',
    '5',
    '6',
    '7',
    '2probe',
    '42/other,["ping"]',
    '451-/cli,["message",{"_placeholder":true,"num":0}]',
    '42/cli,99999999999999999999["ping"]',
    'b4AAAA',
    '\u0000',
  ),
  deepJsonTextUpTo(100_000).map((deep) => `42/cli,${deep}`),
  deepJsonTextUpTo(30_000).map((deep) => `42/cli,5["message",${deep}]`),
  fc.tuple(fc.integer({ min: 0, max: 9 }), fc.string({ maxLength: 30 })).map(([type, rest]) => `4${type}/cli,${rest}`),
);

function ackFrames(raw: RawCli, id: number): string[] {
  return raw.received.filter((frame) => frame.startsWith(`3/cli,${id}[`));
}

async function open(transport: RawTransport): Promise<RawCli> {
  return openRawCli(world.t.url, { token: world.alice.token }, transport);
}

for (const transport of ['websocket', 'polling'] as const) {
  describe(`fuzz: raw frames over ${transport}`, () => {
    it(`well-formed event frames: exactly one ack each (${RUNS[transport].events} cases)`, {
      timeout: 120_000,
    }, async () => {
      const raw = await open(transport);
      const before = await world.snapshot(world.bob.ns);
      let id = 0;
      let previous = '';
      try {
        await checkAsyncProperty(
          `raw ${transport} events`,
          eventFrame,
          async (frame) => {
            if (raw.closed)
              throw new Error(
                `the hub closed a connection that sent only well-formed frames; the last one: ${previous.slice(0, 300)}`,
              );
            const payload = frame.payload?.replaceAll(SID_TEXT, world.alice.sessionId);
            const args = payload === undefined ? `[${frame.name}]` : `[${frame.name},${payload}]`;
            id++;
            previous = args;
            const ack = await raw.emitRawArgs(args, ACK_WAIT_MS);
            const parsed = JSON.parse(ack) as unknown[];
            expect(Array.isArray(parsed)).toBe(true);
            if (frame.name !== '"ping"') {
              expect(parsed, `ack of ${args.slice(0, 120)}`).toHaveLength(1);
              const answer = parsed[0] as { result?: unknown };
              expect(['ok', 'error', 'success', 'version-mismatch']).toContain(answer.result);
              expect((answer as { reason?: unknown }).reason, `ack of ${args.slice(0, 120)}`).not.toBe('internal');
            }
          },
          RUNS[transport].events,
        );
        // Exactly one ack per id: after a final barrier, no id was answered twice.
        await raw.ping();
        for (let i = 1; i <= id; i++) {
          const frames = ackFrames(raw, i);
          if (frames.length !== 1) throw new Error(`ack id ${i} answered ${frames.length} times`);
        }
        expect(await world.snapshot(world.bob.ns)).toEqual(before);
        expect(await world.healthy()).toBe(true);
      } finally {
        await raw.close();
      }
    });

    it(`malformed frames cost at most the sender's connection (${RUNS[transport].malformed} cases)`, {
      timeout: 120_000,
    }, async () => {
      const bystander = await open(transport === 'websocket' ? 'polling' : 'websocket');
      let raw = await open(transport);
      const aliceBefore = await world.snapshot(world.alice.ns);
      let dropped = 0;
      try {
        await checkAsyncProperty(
          `raw ${transport} malformed`,
          malformedFrame,
          async (frame) => {
            if (raw.closed) {
              dropped++;
              raw = await open(transport);
            }
            await raw.send(frame).catch(() => undefined);
            if (frame.startsWith('41/cli')) {
              // A namespace DISCONNECT: the socket is gone by the client's own request (the
              // engine.io connection stays open with no namespace to answer a ping).
              await raw.close();
              return;
            }
            // Either the connection still answers in order, or the hub dropped it.
            await raw.ping(ACK_WAIT_MS).catch((error: unknown) => {
              if (!raw.closed) throw error;
            });
          },
          RUNS[transport].malformed,
        );
        await bystander.ping();
        expect(bystander.closed).toBe(false);
        expect(await world.healthy()).toBe(true);
        const after = await world.snapshot(world.alice.ns);
        if (!isDeepStrictEqual(after, aliceBefore)) expect(after).toEqual(aliceBefore);
        const fresh = await open(transport);
        await fresh.ping();
        await fresh.close();
        console.log(`[fuzz] raw ${transport}: ${dropped} connections dropped by malformed frames`);
      } finally {
        await raw.close();
        await bystander.close();
      }
    });
  });
}

describe('raw frames: the deepest documents', () => {
  it('a 100,000-deep metadata on every document event is refused as invalid-payload', async () => {
    const raw = await open('websocket');
    try {
      const deep = nestedText(100_000, 'mixed');
      const sid = JSON.stringify(world.alice.sessionId);
      const ack = await raw.emitText('update-metadata', `{"sid":${sid},"expectedVersion":1,"metadata":${deep}}`);
      expect(JSON.parse(ack)).toEqual([{ result: 'error', reason: 'invalid-payload' }]);
    } finally {
      await raw.close();
    }
  });
});
