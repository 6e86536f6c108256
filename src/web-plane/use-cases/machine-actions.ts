// Machine-scoped web operations (docs/protocol.md#machines): spawn, list-directory, paths/exists.
import type { SpawnBody } from '../../protocol/web-rest.js';
import type { MachineService } from '../../services/machines.js';
import type { RpcGateway } from '../../services/rpc-gateway.js';
import { HTTP_ERRORS } from '../../http/reply.js';
import { fail, ok, rpcTransportReply, type WebReply } from './reply.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const REMOTE_ONLY_AGENTS: Record<string, string> = { agy: 'AGY', dsh: 'DSH' };

export class MachineActions {
  constructor(
    private readonly rpc: RpcGateway,
    private readonly machines: MachineService,
  ) {}

  /** POST /api/machines/:id/spawn — always 200 with `{type:'success'|'error', …}` past validation. */
  async spawn(namespace: string, machineId: string, body: SpawnBody): Promise<WebReply> {
    const remoteOnly = body.agent !== undefined ? REMOTE_ONLY_AGENTS[body.agent] : undefined;
    if (remoteOnly !== undefined && body.startingMode !== undefined && body.startingMode !== 'remote') {
      return fail(400, `${remoteOnly} only supports remote mode`);
    }
    const outcome = await this.rpc.spawnSession(namespace, machineId, body);
    return ok({ ...outcome });
  }

  /** POST /api/machines/:id/list-directory — 404 for a missing machine; the runner's answer is passed through. */
  async listDirectory(
    namespace: string,
    machineId: string,
    path: string,
    includeHidden: boolean | undefined,
  ): Promise<WebReply> {
    let result: unknown;
    try {
      result = await this.rpc.listMachineDirectory(namespace, machineId, path, includeHidden);
    } catch (error) {
      return rpcTransportReply(error);
    }
    if (!isRecord(result)) return ok({ success: false, error: 'Unexpected list-directory result' });
    return ok(result);
  }

  /** POST /api/machines/:id/paths/exists — 404 for a missing machine; trimmed, de-duplicated; nothing left → no RPC. */
  async pathsExist(namespace: string, machineId: string, paths: string[]): Promise<WebReply> {
    const unique = [...new Set(paths.map((path) => path.trim()).filter((path) => path.length > 0))];
    if (unique.length === 0)
      return (await this.machines.exists(namespace, machineId)) ? ok({ exists: {} }) : HTTP_ERRORS.machineNotFound;
    let result: unknown;
    try {
      result = await this.rpc.pathExists(namespace, machineId, unique);
    } catch (error) {
      return rpcTransportReply(error);
    }
    // The runner's own error is upstream's 500 `{error}`; an answer of any other shape is the
    // runner's fault and answers 502 rpc_bad_answer like every refused RPC answer.
    if (isRecord(result) && typeof result.error === 'string' && !isRecord(result.exists))
      return fail(500, result.error);
    if (!isRecord(result) || !isRecord(result.exists))
      return fail(502, 'Unexpected path-exists result', { code: 'rpc_bad_answer' });
    const exists: Record<string, boolean> = {};
    for (const [path, value] of Object.entries(result.exists)) exists[path] = value === true;
    return ok({ exists });
  }
}
