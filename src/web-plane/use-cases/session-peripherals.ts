// The session routes upstream calls peripheral but its web app exposes: pin, summary, switch,
// effort-style config, model catalogs, steer/retry of queued messages. Each returns upstream
// 0.30.7's status/body table; RPC transport failures answer 503/504 JSON
// (docs/protocol.md#rpc-transport-failures) where upstream let them escape as plain-text 500s.
import { z } from 'zod';
import type { SessionRow } from '../../services/model.js';
import { flavorOf } from '../../protocol/web-rest.js';
import type { RpcGateway } from '../../services/rpc-gateway.js';
import { CONCURRENT_MODIFICATION } from './session-actions.js';
import type { SessionService } from '../../services/sessions.js';
import { fail, ok, rpcTransportReply, type WebReply } from './reply.js';
import { HTTP_ERRORS } from '../../http/reply.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function controlledByUser(row: SessionRow): boolean {
  return isRecord(row.agentState) && row.agentState.controlledByUser === true;
}

export type PinMode = 'none' | 'project' | 'global';

/** Session-level catalogs: route segment → [RPC method, flavors that have it]. */
export const SESSION_CATALOGS: Record<string, { method: string; flavors: readonly string[]; refusal: string }> = {
  'codex-models': {
    method: 'listCodexModels',
    flavors: ['codex'],
    refusal: 'Codex models are only available for Codex sessions',
  },
  'opencode-models': {
    method: 'listOpencodeModels',
    flavors: ['opencode'],
    refusal: 'OpenCode models are only available for OpenCode sessions',
  },
  'opencode-reasoning-effort-options': {
    method: 'listOpencodeReasoningEffortOptions',
    flavors: ['opencode'],
    refusal: 'OpenCode reasoning effort options are only available for OpenCode sessions',
  },
  'grok-models': {
    method: 'listGrokModels',
    flavors: ['grok'],
    refusal: 'Grok models are only available for Grok sessions',
  },
  'grok-reasoning-effort-options': {
    method: 'listGrokReasoningEffortOptions',
    flavors: ['grok'],
    refusal: 'Grok effort options are only available for Grok sessions',
  },
  'copilot-models': {
    method: 'listCopilotModels',
    flavors: ['copilot'],
    refusal: 'Copilot models are only available for Copilot sessions',
  },
  'cursor-models': {
    method: 'listCursorModels',
    flavors: ['cursor'],
    refusal: 'Cursor models are only available for Cursor sessions',
  },
  'pi-models': { method: 'listPiModels', flavors: ['pi'], refusal: 'Not a Pi session' },
};

/** Machine-level catalogs: route segment → [RPC method, needs ?cwd]. */
export const MACHINE_CATALOGS: Record<string, { method: string; cwd: boolean; missingTarget503: boolean }> = {
  'agy-models': { method: 'listAgyModels', cwd: false, missingTarget503: false },
  'pi-models': { method: 'listPiModelsForMachine', cwd: false, missingTarget503: true },
  'codex-models': { method: 'listCodexModels', cwd: false, missingTarget503: true },
  'cursor-models': { method: 'listCursorModels', cwd: false, missingTarget503: false },
  'opencode-models': { method: 'listOpencodeModelsForCwd', cwd: true, missingTarget503: false },
  'grok-models': { method: 'listGrokModelsForCwd', cwd: true, missingTarget503: false },
  'copilot-models': { method: 'listCopilotModelsForCwd', cwd: true, missingTarget503: false },
};

/** Runtime config keys beyond permission mode and model: route → [body key, flavors, column]. */
export const CONFIG_ROUTES = {
  effort: { key: 'effort', flavors: ['claude', 'grok', 'pi'], lockedWhenControlled: ['grok'] },
  'model-reasoning-effort': {
    key: 'modelReasoningEffort',
    flavors: ['codex', 'opencode'],
    lockedWhenControlled: ['codex', 'opencode'],
  },
  'service-tier': { key: 'serviceTier', flavors: ['codex'], lockedWhenControlled: ['codex'] },
} as const;
export type ConfigRoute = keyof typeof CONFIG_ROUTES;

export class SessionPeripheralsUseCase {
  constructor(
    private readonly sessions: SessionService,
    private readonly rpc: RpcGateway,
    private readonly now: () => number,
  ) {}

  /** PUT …/pin `{mode}`: project → pinned, global → globalPinned, none → neither. */
  async pin(row: SessionRow, mode: PinMode): Promise<WebReply> {
    await this.sessions.updateColumns(row.namespace, row.id, {
      pinned: mode === 'project',
      globalPinned: mode === 'global',
    });
    return ok();
  }

  /** PATCH …/summary `{text}` (trimmed 1..255): metadata.summary, versioned, as rename. */
  async summary(row: SessionRow, text: string): Promise<WebReply> {
    const updatedAt = this.now();
    const written = await this.sessions.writeMetadataFromHub(row.namespace, row.id, (prior) => ({
      ...prior,
      summary: { text, updatedAt },
    }));
    if (written === 'ok') return ok();
    if (written === 'conflict') return fail(409, CONCURRENT_MODIFICATION);
    return fail(404, 'Session not found');
  }

  /** POST …/switch: the CLI takes the session back to remote mode (route requires active). */
  async switchToRemote(row: SessionRow): Promise<WebReply> {
    const capabilities = isRecord(row.metadata) && isRecord(row.metadata.capabilities) ? row.metadata.capabilities : {};
    if (capabilities.concurrentClients === true)
      return fail(409, 'Shared sessions do not switch modes', { code: 'control_mode_not_applicable' });
    try {
      await this.rpc.session(row.namespace, row.id, 'switch', { to: 'remote' });
    } catch (error) {
      return rpcTransportReply(error);
    }
    return ok();
  }

  /** effort / model-reasoning-effort / service-tier (route requires active). */
  async setConfig(row: SessionRow, route: ConfigRoute, value: string | null): Promise<WebReply> {
    const spec = CONFIG_ROUTES[route];
    const flavor = flavorOf(row.metadata);
    if (!(spec.flavors as readonly string[]).includes(flavor))
      return fail(400, `${spec.key} is not supported for ${flavor} sessions`);
    if ((spec.lockedWhenControlled as readonly string[]).includes(flavor) && controlledByUser(row)) {
      return fail(409, `${spec.key} cannot be changed while the session is controlled from the terminal`);
    }
    let reply: unknown;
    try {
      reply = await this.rpc.setSessionConfig(row.namespace, row.id, { [spec.key]: value });
    } catch (error) {
      return rpcTransportReply(error);
    }
    if (isRecord(reply) && typeof reply.error === 'string' && reply.error.length > 0) return fail(409, reply.error);
    if (!isRecord(reply) || !isRecord(reply.applied)) return fail(409, 'Missing applied session config');
    if (!(spec.key in reply.applied)) return fail(409, `Session did not apply ${spec.key}`);
    await this.sessions.updateColumns(row.namespace, row.id, { [spec.key]: value });
    return ok();
  }

  /** GET …/<catalog> on a session: active + matching flavor, else 400 `{success:false}`. */
  async sessionCatalog(row: SessionRow, segment: string): Promise<WebReply> {
    const spec = SESSION_CATALOGS[segment];
    if (!spec) return HTTP_ERRORS.notFound;
    const flavor = flavorOf(row.metadata);
    if (!spec.flavors.includes(flavor)) return fail(400, spec.refusal, { success: false });
    try {
      return passThrough(await this.rpc.session(row.namespace, row.id, spec.method, {}));
    } catch (error) {
      return rpcTransportReply(error, { success: false });
    }
  }

  /** GET /api/machines/:id/<catalog>[?cwd=]. */
  async machineCatalog(
    namespace: string,
    machineId: string,
    segment: string,
    cwd: string | undefined,
  ): Promise<WebReply> {
    const spec = MACHINE_CATALOGS[segment];
    if (!spec) return HTTP_ERRORS.notFound;
    if (spec.cwd && !cwd) return fail(400, 'cwd query parameter is required', { success: false });
    try {
      return passThrough(await this.rpc.machine(namespace, machineId, spec.method, spec.cwd ? { cwd } : {}));
    } catch (error) {
      return rpcTransportReply(error, { success: false });
    }
  }

  /** GET /api/machines/:id/agent-availability → the runner's `agent-availability` answer. */
  async agentAvailability(namespace: string, machineId: string): Promise<WebReply> {
    try {
      return passThrough(await this.rpc.machine(namespace, machineId, 'agent-availability', {}));
    } catch (error) {
      return rpcTransportReply(error, { success: false });
    }
  }

  /** POST …/messages/:messageId/steer: only Pi/Codex/Cursor-ACP sessions steer (upstream text). */
  async steer(row: SessionRow, localId: string | null): Promise<WebReply> {
    const flavor = flavorOf(row.metadata);
    if (!['pi', 'codex', 'cursor'].includes(flavor)) {
      return ok({
        status: 'failed',
        error: 'Steering is only supported for Pi, Codex, and Cursor ACP sessions',
        localId,
      });
    }
    if (controlledByUser(row))
      return ok({ status: 'failed', error: 'Session is controlled from the terminal', localId });
    if (localId === null) return ok({ status: 'failed', error: 'Message not found', localId });
    let reply: unknown;
    try {
      reply = await this.rpc.session(row.namespace, row.id, 'steer-queued-message', { localId });
    } catch (error) {
      return ok({ status: 'failed', error: error instanceof Error ? error.message : String(error), localId });
    }
    if (isRecord(reply) && reply.steered === true) return ok({ status: 'steered', localId });
    const error = isRecord(reply) && typeof reply.error === 'string' ? reply.error : 'Steer was not applied';
    return ok({ status: 'failed', error, localId });
  }
}

/** A CLI answer as the route's JSON body (a non-object answer is wrapped, as upstream's client expects objects). */
function passThrough(reply: unknown): WebReply {
  if (isRecord(reply)) return ok(reply);
  return ok({ success: false, error: `Unexpected answer: ${JSON.stringify(reply) ?? String(reply)}` });
}

// Request bodies (one schema per shape; routes and tests share them) ---------------------------

export const PinBodySchema = z.object({ mode: z.enum(['none', 'project', 'global']) });
export const SummaryBodySchema = z.object({ text: z.string().trim().min(1).max(255) });
export const EffortBodySchema = z.object({ effort: z.string().trim().min(1).nullable() });
export const ModelReasoningEffortBodySchema = z.object({ modelReasoningEffort: z.string().trim().min(1).nullable() });
export const ServiceTierBodySchema = z.object({ serviceTier: z.enum(['fast', 'standard']) });
export const ForkBodySchema = z.object({ messageLocalId: z.string().min(1).optional() });
export const RewindBodySchema = z.object({ messageLocalId: z.string().min(1) });
