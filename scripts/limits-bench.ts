// The limiter's cost per message on the ingest path (issue 16: keep it under 10 %). Runs the CLI
// `message` path a socket event takes after parsing — limits.admitSocketEvent, then
// messages.appendFromCli (history reserve + engine append + event) — N times, with the real
// LimitsService and with one that admits everything without looking, alternating blocks so drift
// hits both; prints µs per message and the ratio. Memory engine, or Redis with REDIS_URL set.
//   npx tsx scripts/limits-bench.ts [messages=20000] [bytes=1024]
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config.js';
import { createEngine } from '../src/engine/index.js';
import { createHub } from '../src/hub/create.js';
import { createLogger } from '../src/ops/logger.js';
import type { LimitsService } from '../src/services/limits.js';

const [countArg = '20000', bytesArg = '1024'] = process.argv.slice(2);
const count = Number(countArg);
const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent', CLI_API_TOKEN: 'bench-token-0123456789' });
const engine = await createEngine(config);
const hub = await createHub({ config, engine, log: createLogger('silent'), startSweeper: false });
const { services } = hub;
const real = services.limits;
const ADMIT = { ok: true } as const;
const noop = {
  admitSocketEvent: () => ADMIT,
  reserve: async () => ADMIT,
  release: async () => undefined,
  messageBytes: () => 0,
  historyPolicy: 'refuse',
} as unknown as LimitsService;

const ns = `bench-${Date.now()}`;
const socketId = `bench-socket-${Date.now()}`;
// Limits high enough that nothing is refused: the cost of checking, not of refusing.
await real.setOverrides(ns, {
  socketEventsPerSec: 10_000_000,
  socketBytesPerSec: 100_000_000_000,
  namespaceEventsPerSec: 10_000_000,
  namespaceBytesPerSec: 100_000_000_000,
  historyBytes: 1_000_000_000_000,
});
await real.openConnection(ns, socketId);
const created = await services.sessions.createOrLoad(ns, { tag: 'bench', metadata: { path: '/b' }, agentState: null });
if (!created.ok) throw new Error('session');
const sid = created.session.id;
const text = 'x'.repeat(Number(bytesArg));

async function block(limits: LimitsService, n: number): Promise<number> {
  (services.deps as { limits: LimitsService }).limits = limits;
  const started = performance.now();
  for (let i = 0; i < n; i += 1) {
    const message = { role: 'agent', content: { type: 'output', data: text, i } };
    const verdict = await limits.admitSocketEvent(socketId, ns, () => limits.messageBytes(message));
    if (!verdict.ok) throw new Error(`refused: ${JSON.stringify(verdict)}`);
    const result = await services.messages.appendFromCli(ns, { sid, message }, { socketId, inSessionRoom: true });
    if (!result.ok) throw new Error('append failed');
  }
  return performance.now() - started;
}

await block(real, 500);
await block(noop, 500);
const blocks = 10;
const per = Math.floor(count / blocks / 2);
let withLimits = 0;
let without = 0;
for (let b = 0; b < blocks; b += 1) {
  withLimits += await block(real, per);
  without += await block(noop, per);
}
const n = per * blocks;
const usWith = (withLimits * 1000) / n;
const usWithout = (without * 1000) / n;
console.log(
  JSON.stringify({
    engine: engine.kind,
    messages: n,
    messageBytes: Number(bytesArg),
    load: loadavg().map((v) => Number(v.toFixed(2))),
    usPerMessageWithLimits: Number(usWith.toFixed(1)),
    usPerMessageWithout: Number(usWithout.toFixed(1)),
    limiterCostPercent: Number((((usWith - usWithout) / usWithout) * 100).toFixed(1)),
  }),
);
await hub.close();
await engine.close();
