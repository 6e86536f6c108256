// Session- and machine-scoped RPC helpers with upstream's method names and parameters
// (hub/src/sync/rpcGateway.ts). Transport failures propagate as RpcTargetMissingError /
// RpcTimeoutError; a CLI-side failure comes back as a value with an `error` key, which each
// caller interprets the way its route defines.
import type { ServiceTimings } from './deps.js';
import { RpcBadAnswerError } from './errors.js';
import type { RpcService } from './rpc.js';

/** Methods upstream calls with the 120 s timeout (model/session listings, fork/rewind). */
const LONG_RPC_METHODS = new Set([
  'listCodexModels',
  'listCodexSessions',
  'listPiSessions',
  'archiveCodexSession',
  'listCursorModels',
  'listCopilotModels',
  'listCopilotModelsForCwd',
  'listAgyModels',
  'listPiModelsForMachine',
  'listPiModels',
  'fork-conversation',
  'rewind-conversation',
  'clear-conversation',
  'listOpencodeModelVariants',
  // upstream: 60 s; this hub has one long timeout
  'implement-codex-plan',
]);

export const ABORT_REASON = 'User aborted via Telegram Bot';

export interface PermissionParams {
  id: string;
  approved: boolean;
  mode?: string | undefined;
  allowTools?: string[] | undefined;
  decision?: string | undefined;
  answers?: unknown;
}

export interface SpawnParams {
  directory: string;
  agent?: string | undefined;
  model?: string | undefined;
  effort?: string | undefined;
  modelReasoningEffort?: string | undefined;
  yolo?: boolean | undefined;
  permissionMode?: string | undefined;
  sessionType?: 'simple' | 'worktree' | undefined;
  worktreeName?: string | undefined;
  serviceTier?: string | undefined;
  collaborationMode?: string | undefined;
  copilotAgentMode?: string | undefined;
  startingMode?: string | undefined;
  resumeSessionId?: string | undefined;
  existingSessionId?: string | undefined;
  /** Claude: start the child with --fork-session (the fork flow). */
  forkSession?: boolean | undefined;
}

export type SpawnOutcome = { type: 'success'; sessionId: string } | { type: 'error'; message: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Upstream's mapping of a runner's `spawn-happy-session` answer. */
export function mapSpawnResult(result: unknown): SpawnOutcome {
  if (isRecord(result)) {
    if (result.type === 'success' && typeof result.sessionId === 'string')
      return { type: 'success', sessionId: result.sessionId };
    if (result.type === 'error') {
      const message =
        typeof result.errorMessage === 'string'
          ? result.errorMessage
          : typeof result.message === 'string'
            ? result.message
            : 'Spawn failed';
      return { type: 'error', message };
    }
    if (result.type === 'requestToApproveDirectoryCreation') {
      return { type: 'error', message: `Directory creation requires approval: ${String(result.directory)}` };
    }
    if (typeof result.error === 'string') return { type: 'error', message: result.error };
    if (result.type !== 'success' && typeof result.message === 'string')
      return { type: 'error', message: result.message };
  }
  return { type: 'error', message: `Unexpected spawn result: ${JSON.stringify(result) ?? String(result)}` };
}

export class RpcGateway {
  constructor(
    private readonly rpc: RpcService,
    private readonly timings: ServiceTimings,
  ) {}

  private timeoutFor(method: string): number {
    return LONG_RPC_METHODS.has(method) ? this.timings.rpcLongTimeoutMs : this.timings.rpcTimeoutMs;
  }

  session(namespace: string, sessionId: string, method: string, params: unknown): Promise<unknown> {
    return this.rpc.call(namespace, sessionId, method, params, this.timeoutFor(method));
  }

  machine(namespace: string, machineId: string, method: string, params: unknown): Promise<unknown> {
    return this.rpc.call(namespace, machineId, method, params, this.timeoutFor(method));
  }

  /** A machine call for a route that has not looked the machine up: MachineNotFoundError if absent. */
  private existingMachine(namespace: string, machineId: string, method: string, params: unknown): Promise<unknown> {
    return this.rpc.call(namespace, machineId, method, params, this.timeoutFor(method), { requireMachine: true });
  }

  // Session-scoped ---------------------------------------------------------------------------

  abort(namespace: string, sessionId: string): Promise<unknown> {
    return this.session(namespace, sessionId, 'abort', { reason: ABORT_REASON });
  }

  permission(namespace: string, sessionId: string, params: PermissionParams): Promise<unknown> {
    return this.session(namespace, sessionId, 'permission', params);
  }

  setSessionConfig(namespace: string, sessionId: string, config: Record<string, unknown>): Promise<unknown> {
    return this.session(namespace, sessionId, 'set-session-config', config);
  }

  killSession(namespace: string, sessionId: string): Promise<unknown> {
    return this.session(namespace, sessionId, 'killSession', {});
  }

  gitStatus(namespace: string, sessionId: string, cwd: string): Promise<unknown> {
    return this.session(namespace, sessionId, 'git-status', { cwd });
  }

  gitDiffNumstat(namespace: string, sessionId: string, cwd: string, staged: boolean | undefined): Promise<unknown> {
    return this.session(namespace, sessionId, 'git-diff-numstat', { cwd, staged });
  }

  gitDiffFile(
    namespace: string,
    sessionId: string,
    cwd: string,
    filePath: string,
    staged: boolean | undefined,
  ): Promise<unknown> {
    return this.session(namespace, sessionId, 'git-diff-file', { cwd, filePath, staged });
  }

  readFile(namespace: string, sessionId: string, path: string): Promise<unknown> {
    return this.session(namespace, sessionId, 'readFile', { path });
  }

  readGeneratedImage(namespace: string, sessionId: string, id: string): Promise<unknown> {
    return this.session(namespace, sessionId, 'readGeneratedImage', { id });
  }

  listDirectory(namespace: string, sessionId: string, path: string): Promise<unknown> {
    return this.session(namespace, sessionId, 'listDirectory', { path });
  }

  ripgrep(
    namespace: string,
    sessionId: string,
    args: string[],
    cwd: string,
    fileSearch: { query: string; limit: number },
  ): Promise<unknown> {
    return this.session(namespace, sessionId, 'ripgrep', { args, cwd, fileSearch });
  }

  statFiles(namespace: string, sessionId: string, paths: string[]): Promise<unknown> {
    return this.session(namespace, sessionId, 'statFiles', { paths });
  }

  uploadFile(
    namespace: string,
    sessionId: string,
    file: { filename: string; content: string; mimeType: string },
  ): Promise<unknown> {
    return this.session(namespace, sessionId, 'uploadFile', { sessionId, ...file });
  }

  deleteUpload(namespace: string, sessionId: string, path: string): Promise<unknown> {
    return this.session(namespace, sessionId, 'deleteUpload', { sessionId, path });
  }

  listSlashCommands(namespace: string, sessionId: string, agent: string): Promise<unknown> {
    return this.session(namespace, sessionId, 'listSlashCommands', { agent });
  }

  listSkills(namespace: string, sessionId: string, flavor: string): Promise<unknown> {
    return this.session(namespace, sessionId, 'listSkills', { flavor });
  }

  // Machine-scoped ---------------------------------------------------------------------------

  /**
   * Every failure, transport included, becomes `{type:'error', message}` (upstream) — except an
   * answer the hub refuses (RpcBadAnswerError), which is thrown.
   */
  async spawnSession(namespace: string, machineId: string, params: SpawnParams): Promise<SpawnOutcome> {
    const rpcParams = {
      type: 'spawn-in-directory',
      directory: params.directory,
      agent: params.agent ?? 'claude',
      model: params.model,
      modelReasoningEffort: params.modelReasoningEffort,
      yolo: params.yolo,
      sessionType: params.sessionType,
      worktreeName: params.worktreeName,
      resumeSessionId: params.resumeSessionId,
      effort: params.effort,
      permissionMode: params.permissionMode,
      serviceTier: params.serviceTier,
      existingSessionId: params.existingSessionId,
      sessionId: params.existingSessionId,
      collaborationMode: params.collaborationMode,
      copilotAgentMode: params.copilotAgentMode,
      startingMode: params.startingMode,
      forkSession: params.forkSession === true,
    };
    try {
      return mapSpawnResult(await this.machine(namespace, machineId, 'spawn-happy-session', rpcParams));
    } catch (error) {
      if (error instanceof RpcBadAnswerError) throw error; // 502 rpc_bad_answer, like every other route
      return { type: 'error', message: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Throws MachineNotFoundError when the namespace has no such machine. */
  listMachineDirectory(
    namespace: string,
    machineId: string,
    path: string,
    includeHidden: boolean | undefined,
  ): Promise<unknown> {
    return this.existingMachine(namespace, machineId, 'list-directory', { path, includeHidden });
  }

  /** Throws MachineNotFoundError when the namespace has no such machine. */
  pathExists(namespace: string, machineId: string, paths: string[]): Promise<unknown> {
    return this.existingMachine(namespace, machineId, 'path-exists', { paths });
  }
}
