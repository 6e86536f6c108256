// Figures for issue 16: tenant B's /health and message round trip alone and while tenant A floods,
// with the limits at their defaults and with them lifted ("before"). Run from a checkout:
//   npx tsx scripts/noisy-neighbour.ts [memory|redis] [limits|nolimits] [messageBytes]
import { loadavg } from 'node:os';
import {
  openTenantB,
  spawnHubProcess,
  startFloodProcess,
  storedLocalIds,
  summarise,
} from '../test/helpers/noisy-neighbour.js';
import { startRedisServer } from '../test/helpers/redis-server.js';

const [engine = 'memory', mode = 'limits', size = '1024'] = process.argv.slice(2);
const LIFTED: Record<string, string> = {
  HAPI_LIMIT_SOCKET_EVENTS_PER_SEC: '100000000',
  HAPI_LIMIT_SOCKET_BYTES_PER_SEC: '100000000000',
  HAPI_LIMIT_NAMESPACE_EVENTS_PER_SEC: '100000000',
  HAPI_LIMIT_NAMESPACE_BYTES_PER_SEC: '100000000000',
  HAPI_LIMIT_PENDING_EVENTS: '100000000',
  HAPI_LIMIT_HISTORY_BYTES: '1000000000000',
};
const redis = engine === 'redis' ? await startRedisServer() : null;
const hub = await spawnHubProcess({
  ...(redis ? { REDIS_URL: redis.url, HAPI_WORKERS: '2' } : {}),
  ...(mode === 'nolimits' ? LIFTED : {}),
});
try {
  const b = await openTenantB(hub, 'tenant-b');
  await b.measure(50, 20);
  const alone = summarise(await b.measure(300, 20));
  const rssBefore = hub.rssBytes();
  const flood = await startFloodProcess(hub, 'tenant-a', { sockets: 4, window: 64, messageBytes: Number(size) });
  // Limited: wait for the first refusal (after A's burst); lifted: a fixed warm-up.
  if (mode !== 'nolimits') await flood.limited;
  await b.measure(50, 20);
  const loaded = summarise(await b.measure(300, 20));
  const rssPeak = hub.rssBytes();
  const tally = await flood.stop();
  const stored = await storedLocalIds(hub, 'tenant-a', tally.sessionId);
  b.close();
  console.log(
    JSON.stringify(
      {
        engine,
        mode,
        messageBytes: Number(size),
        load: loadavg().map((v) => v.toFixed(2)),
        alone,
        loaded,
        a: {
          sent: tally.sent,
          ok: tally.ok.length,
          refused: tally.refused,
          unanswered: tally.unanswered.length,
          reconnects: tally.reconnects,
        },
        stored: stored.localIds.length,
        rssMB: { before: Math.round(rssBefore / 1e6), duringFlood: Math.round(rssPeak / 1e6) },
      },
      null,
      2,
    ),
  );
} finally {
  await hub.stop();
  await redis?.stop();
}
