// Builds the service graph for one worker.
import { AuthService, type AuthSettings } from './auth.js';
import type { ServiceDeps } from './deps.js';
import type { EventFeed } from './events.js';
import { HubSettingsService } from './hub-settings.js';
import type { LimitsService } from './limits.js';
import { MachineService } from './machines.js';
import { MessagePages } from './message-pages.js';
import { MessageService } from './messages.js';
import { PresenceBatcher } from './presence-batcher.js';
import { PresenceSweeper } from './presence-sweeper.js';
import { RpcGateway } from './rpc-gateway.js';
import { RpcService } from './rpc.js';
import { SessionService } from './sessions.js';
import { SharedValues } from './shared-values.js';
import { WebDocuments } from './web-documents.js';

export interface Services {
  deps: ServiceDeps;
  auth: AuthService;
  events: EventFeed;
  sessions: SessionService;
  machines: MachineService;
  messages: MessageService;
  rpc: RpcService;
  /** Typed calls to the CLI's RPC handlers, with upstream's timeouts per method. */
  rpcGateway: RpcGateway;
  /** Web message history pages (position order, epochs, queued rows). */
  messagePages: MessagePages;
  sweeper: PresenceSweeper;
  sharedValues: SharedValues;
  /** Client documents (scratchlists, hub settings) in the engine's document store. */
  documents: WebDocuments;
  hubSettings: HubSettingsService;
  limits: LimitsService;
}

export function createServices(deps: ServiceDeps, auth: AuthSettings, sweepIntervalMs: number): Services {
  const beats = new PresenceBatcher(deps.engine.presence, deps.timings.presenceBatchMs);
  const machines = new MachineService(deps, beats);
  const sessions = new SessionService(deps, machines, beats);
  const rpc = new RpcService(deps);
  const documents = new WebDocuments(deps);
  return {
    deps,
    auth: new AuthService(deps.engine, auth, deps.clock, deps.log),
    events: deps.events,
    sessions,
    machines,
    messages: new MessageService(deps, sessions),
    rpc,
    rpcGateway: new RpcGateway(rpc, deps.timings),
    messagePages: new MessagePages(deps),
    sweeper: new PresenceSweeper(deps, sweepIntervalMs),
    sharedValues: new SharedValues(deps.engine),
    documents,
    hubSettings: new HubSettingsService(documents),
    limits: deps.limits,
  };
}
