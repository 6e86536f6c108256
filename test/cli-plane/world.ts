// Per-file setup for the CLI-plane suites: one hub per file, two tenants (alice, bob) with fresh
// namespace names, and sockets that are closed after each test.
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { Socket } from 'socket.io-client';
import { cliRest, connectCli, type CliAuth, type CliRest, type ConnectOptions } from '../helpers/cli-client.js';
import { uniqueNamespace } from '../helpers/fixtures.js';
import { startTestHub, type TestHub, type TestHubOptions } from '../helpers/hub.js';

export interface Tenant {
  ns: string;
  token: string;
  rest: CliRest;
  /** Connects a socket with this tenant's token plus `auth` extras; closed after the test. */
  connect(auth?: Omit<CliAuth, 'token'>, opts?: ConnectOptions): Promise<Socket>;
}

export interface CliWorld {
  readonly t: TestHub;
  readonly alice: Tenant;
  readonly bob: Tenant;
  /** Connects any auth object; closed after the test. */
  connect(auth: CliAuth | undefined, opts?: ConnectOptions): Promise<Socket>;
}

/**
 * `perTest: true` starts a fresh hub (and fresh tenants) for every test — for suites that move
 * the clock and count hub-wide sweeps.
 */
export function useCliWorld(options: TestHubOptions & { perTest?: boolean } = {}): CliWorld {
  const { perTest = false, ...hubOptions } = options;
  let hub: TestHub | undefined;
  let alice: Tenant | undefined;
  let bob: Tenant | undefined;
  const open: Socket[] = [];

  const connect = async (auth: CliAuth | undefined, opts?: ConnectOptions): Promise<Socket> => {
    const socket = await connectCli(world.t.url, auth, opts);
    open.push(socket);
    return socket;
  };
  const tenant = (t: TestHub, prefix: string): Tenant => {
    const ns = uniqueNamespace(prefix);
    const token = t.tokenFor(ns);
    return { ns, token, rest: cliRest(t.url, token), connect: (auth = {}, opts) => connect({ ...auth, token }, opts) };
  };

  const start = async () => {
    hub = await startTestHub(hubOptions);
    alice = tenant(hub, 'alice');
    bob = tenant(hub, 'bob');
  };
  const stop = async () => {
    await hub?.close();
    hub = undefined;
  };
  (perTest ? beforeEach : beforeAll)(start);
  afterEach(async () => {
    for (const socket of open.splice(0)) socket.close();
    if (perTest) await stop();
  });
  afterAll(stop);

  const world: CliWorld = {
    get t() {
      if (!hub) throw new Error('the hub is only available inside tests');
      return hub;
    },
    get alice() {
      if (!alice) throw new Error('tenants are only available inside tests');
      return alice;
    },
    get bob() {
      if (!bob) throw new Error('tenants are only available inside tests');
      return bob;
    },
    connect,
  };
  return world;
}
