// SSE resume across a hub restart on the sqlite engine: the event log (epoch, offsets, events)
// and the JWT secret live in the database file, so a browser that reconnects to the restarted
// hub with its last event id gets `resume: 'ok'` and exactly the events it missed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteEngine } from '../../src/engine/sqlite/engine.js';
import type { EngineOptions } from '../../src/engine/types.js';
import { openSse, splitEventId, type SseFrame } from '../helpers/sse-client.js';
import { randomToken } from '../helpers/hub.js';
import { jwtFor, marker, publish, startTestHub } from '../helpers/sse-fixtures.js';

const NS = 'restart-ns';
const ENGINE_OPTIONS: EngineOptions = {
  eventLogMaxEvents: 1024,
  eventLogMaxBytes: 8 * 1024 * 1024,
  messageHistoryLimit: 0,
};
const dir = mkdtempSync(join(tmpdir(), 'hapi-sse-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function markerOf(frame: SseFrame): number | undefined {
  const data = frame.event.data;
  return typeof data === 'object' && data !== null && 'n' in data && typeof data.n === 'number' ? data.n : undefined;
}
const isMarker = (frame: SseFrame): boolean => markerOf(frame) !== undefined;

describe('SSE resume across a restart of a sqlite hub', () => {
  it("answers resume 'ok' and replays exactly the missed events, with the JWT issued before the restart", async () => {
    const file = join(dir, 'hub.db');
    const cliApiToken = randomToken();

    const firstEngine = createSqliteEngine(file, ENGINE_OPTIONS);
    const first = await startTestHub({ engine: firstEngine, cliApiToken });
    const jwt = await jwtFor(first, NS);
    const sse = await openSse(first.url, { token: jwt, query: { all: 'true' } });
    expect(sse.status).toBe(200);
    await publish(first, NS, marker('s', 1));
    await publish(first, NS, marker('s', 2));
    const seen = await sse.collect(2, isMarker);
    sse.close();
    const cursor = seen[1]?.id ?? '';
    await publish(first, NS, marker('s', 3));
    await first.close();
    await firstEngine.close();

    const secondEngine = createSqliteEngine(file, ENGINE_OPTIONS);
    const second = await startTestHub({ engine: secondEngine, cliApiToken });
    try {
      const again = await openSse(second.url, { token: jwt, query: { all: 'true', lastEventId: cursor } });
      expect(again.status).toBe(200);
      const hello = await again.next();
      expect(hello.event.type).toBe('connection-changed');
      expect((hello.event.data as { resume: unknown }).resume).toBe('ok');
      await publish(second, NS, marker('s', 4));
      const frames = await again.collect(2, isMarker);
      expect(frames.map(markerOf)).toEqual([3, 4]);
      expect(frames.map((frame) => splitEventId(frame.id).offset)).toEqual([
        splitEventId(cursor).offset + 1,
        splitEventId(cursor).offset + 2,
      ]);
      expect(frames.map((frame) => splitEventId(frame.id).epoch)).toEqual([
        splitEventId(cursor).epoch,
        splitEventId(cursor).epoch,
      ]);
      again.close();
    } finally {
      await second.close();
      await secondEngine.close();
    }
  });
});
