// Per-file setup for the CLI-plane suites: one hub per file, two tenants (alice, bob) with fresh
// namespace names, and sockets that are closed after each test.
import { afterAll, afterEach, beforeAll } from 'vitest';
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

export function useCliWorld(options: TestHubOptions = {}): CliWorld {
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

  beforeAll(async () => {
    hub = await startTestHub(options);
    alice = tenant(hub, 'alice');
    bob = tenant(hub, 'bob');
  });
  afterEach(() => {
    for (const socket of open.splice(0)) socket.close();
  });
  afterAll(async () => {
    await hub?.close();
  });

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
