// Machine routes the web app's settings expose: rename (PATCH /api/machines/:id) and restart of a
// supervised runner (POST /api/machines/:id/restart-runner), with upstream 0.30.7's answers.
import { z } from 'zod';
import type { MachineRow } from '../../services/model.js';
import type { MachineService } from '../../services/machines.js';
import type { RpcGateway } from '../../services/rpc-gateway.js';
import { fail, ok, type WebReply } from './reply.js';

export const MACHINE_DISPLAY_NAME_MAX = 64;
export const RenameMachineBodySchema = z.object({ displayName: z.string() });
const ATTEMPTS = 5;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class MachinePeripheralsUseCase {
  constructor(
    private readonly machines: MachineService,
    private readonly rpc: RpcGateway,
  ) {}

  /** Trimmed; empty removes the custom name; > 64 characters → 400. Versioned, retried. */
  async rename(row: MachineRow, rawName: string): Promise<WebReply> {
    const name = rawName.trim();
    if (name.length > MACHINE_DISPLAY_NAME_MAX)
      return fail(400, `Invalid body: displayName must be at most ${MACHINE_DISPLAY_NAME_MAX} characters`);
    let current = row;
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      const prior = isRecord(current.metadata) ? { ...current.metadata } : {};
      if (name) prior.displayName = name;
      else delete prior.displayName;
      const outcome = await this.machines.updateMetadata(current.namespace, current.id, current.metadataVersion, prior);
      if (outcome.result === 'success') return ok();
      if (outcome.result === 'error') return fail(404, 'Machine not found');
      const access = await this.machines.access(current.namespace, current.id);
      if (!access.ok) return fail(404, 'Machine not found');
      current = access.row;
    }
    return fail(409, 'Machine was modified concurrently. Please try again.');
  }

  /** Only an online runner that runs under a supervisor (metadata.supervisedRestart) restarts. */
  async restartRunner(row: MachineRow): Promise<WebReply> {
    if (row.live.active !== true) return fail(503, 'Machine is offline', { code: 'machine_offline' });
    if (!isRecord(row.metadata) || row.metadata.supervisedRestart !== true) {
      return fail(502, 'Runner restart is not supported: the runner is not supervised', {
        code: 'restart_unsupported',
      });
    }
    let reply: unknown;
    try {
      reply = await this.rpc.machine(row.namespace, row.id, 'stop-runner', {});
    } catch (error) {
      return fail(502, error instanceof Error ? error.message : String(error), { code: 'restart_failed' });
    }
    if (isRecord(reply) && typeof reply.error === 'string') return fail(502, reply.error, { code: 'restart_failed' });
    return ok({
      message: isRecord(reply) && typeof reply.message === 'string' ? reply.message : 'Runner restart requested',
    });
  }
}
