// Builds the service graph for one worker.
import { AuthService, type AuthSettings } from './auth.js';
import type { ServiceDeps } from './deps.js';
import type { EventFeed } from './events.js';
import { MachineService } from './machines.js';
import { MessageService } from './messages.js';
import { PresenceSweeper } from './presence-sweeper.js';
import { RpcService } from './rpc.js';
import { SessionService } from './sessions.js';

export interface Services {
  deps: ServiceDeps;
  auth: AuthService;
  events: EventFeed;
  sessions: SessionService;
  machines: MachineService;
  messages: MessageService;
  rpc: RpcService;
  sweeper: PresenceSweeper;
}

export function createServices(deps: ServiceDeps, auth: AuthSettings, sweepIntervalMs: number): Services {
  const machines = new MachineService(deps);
  const sessions = new SessionService(deps, machines);
  return {
    deps,
    auth: new AuthService(deps.engine, auth, deps.clock),
    events: deps.events,
    sessions,
    machines,
    messages: new MessageService(deps, sessions),
    rpc: new RpcService(deps),
    sweeper: new PresenceSweeper(deps, sweepIntervalMs),
  };
}
