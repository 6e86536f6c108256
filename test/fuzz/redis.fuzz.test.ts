// A smaller slice of the /cli event and HTTP route fuzzing against a hub on the Redis engine (a
// spawned redis-server, or REDIS_URL): the same properties as on the memory engine.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { FUZZED_EVENTS } from './support/event-cases.js';
import { fuzzEvents } from './support/event-fuzzer.js';
import { reportFuzzCounts } from './support/fuzz-run.js';
import { startFuzzWorld, type FuzzWorld } from './support/fuzz-world.js';
import { ROUTES } from './support/route-cases.js';
import { fuzzRoutes } from './support/route-fuzzer.js';

const RUNS_PER_EVENT = 60;
const RUNS_PER_ROUTE = 20;

let world: FuzzWorld;
beforeAll(async () => {
  world = await startFuzzWorld({ redis: true });
});
afterAll(async () => {
  reportFuzzCounts('redis slice');
  await world?.close();
});

describe('fuzz: Redis engine slice', () => {
  it(`every /cli event: ${RUNS_PER_EVENT} cases each`, { timeout: 120_000 }, async () => {
    await fuzzEvents(world, FUZZED_EVENTS, RUNS_PER_EVENT);
  });

  it(`every HTTP route: ${RUNS_PER_ROUTE} cases each`, { timeout: 120_000 }, async () => {
    await fuzzRoutes(world, Object.keys(ROUTES), RUNS_PER_ROUTE);
  });
});
