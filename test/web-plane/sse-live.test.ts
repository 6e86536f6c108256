// `live.waitFor` (what API routes use to wait for e.g. "session became active"): the first
// matching event of the namespace appended after the call, or null after the timeout. Checked on
// an SSE plane built with createSsePlane over a real hub's services and engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/ops/logger.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { createSsePlane, type SsePlane } from '../../src/web-plane/sse/index.js';
import { marker, publish, startTestHub, type TestHub } from '../helpers/sse-fixtures.js';

const NS = 'live-ns';

describe('SSE plane live.waitFor', () => {
  let t: TestHub;
  let plane: SsePlane;

  beforeAll(async () => {
    t = await startTestHub();
    plane = await createSsePlane(t.hub.services, t.config, createMetrics(), createLogger('silent'));
  });
  afterAll(async () => {
    await plane.close();
    await t.close();
  });

  it('resolves with the first matching event of the namespace appended after the call', async () => {
    await publish(t, NS, marker('target', 1)); // before the call: not seen
    const waiting = plane.live.waitFor(
      NS,
      (event) => event.type === 'session-updated' && event.sessionId === 'target',
      5_000,
    );
    await publish(t, NS, marker('other', 2));
    await publish(t, 'live-elsewhere', marker('target', 3)); // another namespace: never
    await publish(t, NS, marker('target', 4));
    await publish(t, NS, marker('target', 5));
    expect(await waiting).toEqual({ type: 'session-updated', sessionId: 'target', data: { n: 4 }, namespace: NS });
  });

  it('resolves null after the timeout when nothing matches', async () => {
    const started = Date.now();
    const result = await plane.live.waitFor(NS, () => false, 50);
    expect(result).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('survives a throwing predicate and keeps waiting', async () => {
    let calls = 0;
    const waiting = plane.live.waitFor(
      NS,
      (event) => {
        calls += 1;
        if (calls === 1) throw new Error('predicate bug');
        return event.type === 'session-updated';
      },
      5_000,
    );
    await publish(t, NS, marker('a', 1));
    await publish(t, NS, marker('b', 2));
    expect(await waiting).toMatchObject({ sessionId: 'b' });
  });

  it('resolves pending waiters with null on close and stops following the engine', async () => {
    const other = await createSsePlane(t.hub.services, t.config, createMetrics(), createLogger('silent'));
    const waiting = other.live.waitFor(NS, () => true, 5_000);
    await other.close();
    expect(await waiting).toBeNull();
    expect(await other.live.waitFor(NS, () => true, 5_000)).toBeNull();
  });
});
