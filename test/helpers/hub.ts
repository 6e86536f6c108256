// A real hub on a free loopback port for plane tests (CLI plane, web plane, cluster helpers).
//
//   const t = await startTestHub();                 // memory engine, manual clock, no sweeper
//   const socket = await connectCli(t.url, { token: t.token });
//   t.clock.advance(31_000); await t.hub.services.sweeper.sweep();
//   await t.close();
//
// Defaults: CLI_API_TOKEN is a fresh random token, LOG_LEVEL silent, port 0 (the OS picks a free
// port; `port`/`url` are the real ones), memory engine, a ManualClock starting at the wall clock,
// and the presence sweeper NOT started, so tests expire presence deterministically by advancing
// the clock and calling `hub.services.sweeper.sweep()`.
import { randomBytes } from 'node:crypto';
import { engineOptions } from '../../src/engine/index.js';
import { createMemoryEngine } from '../../src/engine/memory/engine.js';
import type { Engine } from '../../src/engine/engine.js';
import { loadConfig, type HubConfig } from '../../src/config.js';
import { createHub, type Hub, type HubOptions } from '../../src/hub/create.js';
import { createLogger, type Logger } from '../../src/ops/logger.js';
import type { Clock } from '../../src/services/clock.js';

/** A clock that only moves when told to. `fn` is the Clock the hub is given. */
export class ManualClock {
  now: number;
  readonly fn: Clock;

  constructor(start: number = Date.now()) {
    this.now = start;
    this.fn = () => this.now;
  }

  advance(ms: number): number {
    this.now += ms;
    return this.now;
  }

  set(at: number): void {
    this.now = at;
  }
}

export interface TestHubOptions extends Partial<HubConfig> {
  /**
   * The hub's clock. A ManualClock (the default is a fresh one) is exposed as `clock`; any other
   * Clock function (e.g. systemClock) is used as-is and `clock` is then a ManualClock nobody reads.
   */
  clock?: Clock | ManualClock;
  /** Engine to use; the test hub does not close an engine it did not create. */
  engine?: Engine;
  /** Start the interval sweeper (default false: drive `hub.services.sweeper.sweep()` by hand). */
  startSweeper?: boolean;
  /** Socket.IO adapter (e.g. the Redis adapter, so several test hubs act as workers of one cluster). */
  adapter?: HubOptions['adapter'];
  /** The hub's logger (default: silent). */
  log?: Logger;
}

export interface TestHub {
  /** Base URL, e.g. http://127.0.0.1:41234 (append '/cli' for the Socket.IO namespace). */
  url: string;
  port: number;
  hub: Hub;
  engine: Engine;
  config: HubConfig;
  /** The hub-wide CLI_API_TOKEN (opens `default`; `tokenFor(ns)` for other namespaces). */
  token: string;
  clock: ManualClock;
  /** `<token>:<namespace>` (the upstream access-token grammar). */
  tokenFor(namespace: string): string;
  close(): Promise<void>;
}

export function randomToken(): string {
  return randomBytes(24).toString('base64url');
}

export async function startTestHub(options: TestHubOptions = {}): Promise<TestHub> {
  const { clock: clockOption, engine: engineOption, startSweeper = false, adapter, log, ...configOverrides } = options;
  const token = configOverrides.cliApiToken ?? randomToken();
  const config: HubConfig = {
    // HAPI_ENGINE=memory: the config says what the hub runs on (the default would be sqlite in ~/.hapi-hub).
    ...loadConfig({
      CLI_API_TOKEN: token,
      LOG_LEVEL: 'silent',
      HAPI_LISTEN_HOST: '127.0.0.1',
      HAPI_LISTEN_PORT: '0',
      HAPI_ENGINE: 'memory',
    }),
    ...configOverrides,
  };
  const manual = clockOption instanceof ManualClock ? clockOption : new ManualClock();
  const clock: Clock = typeof clockOption === 'function' ? clockOption : manual.fn;
  const engine = engineOption ?? createMemoryEngine(engineOptions(config));
  const ownsEngine = engineOption === undefined;
  const hub = await createHub({
    config,
    engine,
    log: log ?? createLogger('silent'),
    clock,
    startSweeper,
    ...(adapter ? { adapter } : {}),
  });
  const port = await hub.listen(0, '127.0.0.1');
  let closed = false;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hub,
    engine,
    config,
    token,
    clock: manual,
    tokenFor: (namespace) => `${token}:${namespace}`,
    async close() {
      if (closed) return;
      closed = true;
      await hub.close();
      if (ownsEngine) await engine.close();
    },
  };
}

/** A namespace's historyBytes usage with no step held back by the hub: what its messages count. */
export async function historyUsage(t: TestHub, ns: string): Promise<number> {
  await t.hub.services.limits.flush();
  return (await t.hub.services.limits.describe(ns)).usage.historyBytes ?? 0;
}
