// Property-based fuzzing of every HTTP route (/health, /ready, /metrics, /cli/*, /api/*) on the
// memory engine (see support/route-fuzzer.ts). Fails when the hub has a route this suite does not
// know, or the suite names a route the hub no longer has.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportFuzzCounts } from './support/fuzz-run.js';
import { startFuzzWorld, type FuzzWorld } from './support/fuzz-world.js';
import { ROUTES } from './support/route-cases.js';
import { fuzzRoutes, timing } from './support/route-fuzzer.js';

const RUNS_PER_ROUTE = 90;

let world: FuzzWorld;
beforeAll(async () => {
  world = await startFuzzWorld();
});
afterAll(async () => {
  reportFuzzCounts('http-routes (memory)');
  if (process.env.FUZZ_VERBOSE) console.log(timing);
  await world?.close();
});

describe('fuzz: HTTP routes (memory engine)', () => {
  it('covers every route of the Koa routers', () => {
    expect([...world.t.hub.httpRoutes].sort()).toEqual(Object.keys(ROUTES).sort());
  });

  it(`every route: ${RUNS_PER_ROUTE} cases each`, { timeout: 150_000 }, async () => {
    await fuzzRoutes(world, Object.keys(ROUTES), RUNS_PER_ROUTE);
  });
});
