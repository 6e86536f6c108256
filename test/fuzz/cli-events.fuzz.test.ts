// Property-based fuzzing of every /cli event on the memory engine (see support/event-fuzzer.ts):
// bounded acks of the right shape, nothing stored on refusal, the other tenant untouched, the
// hub up afterwards. Fails when the hub handles an event this suite does not generate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUZZED_EVENTS } from './support/event-cases.js';
import { fuzzEvents } from './support/event-fuzzer.js';
import { reportFuzzCounts } from './support/fuzz-run.js';
import { startFuzzWorld, type FuzzWorld } from './support/fuzz-world.js';

const RUNS_PER_EVENT = 300;

let world: FuzzWorld;
beforeAll(async () => {
  world = await startFuzzWorld();
});
afterAll(async () => {
  reportFuzzCounts('cli-events (memory)');
  await world?.close();
});

describe('fuzz: /cli events (memory engine)', () => {
  it('covers every event the hub handles', () => {
    expect([...world.t.hub.cliEvents].sort()).toEqual([...FUZZED_EVENTS].sort());
  });

  it(`every event: ${RUNS_PER_EVENT} cases each`, { timeout: 120_000 }, async () => {
    await fuzzEvents(world, FUZZED_EVENTS, RUNS_PER_EVENT);
  });
});
