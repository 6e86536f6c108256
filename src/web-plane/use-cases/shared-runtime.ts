// Shared ("concurrent clients") runtimes — e.g. one Codex app-server process serving several hub
// sessions — answer clear and fork with the id of a session they registered themselves. Upstream
// accepts that session only once it is there and bound to the same runtime; so do we.
import type { SessionRow } from '../../services/model.js';
import type { SessionService } from '../../services/sessions.js';

const WAIT_MS = 5_000;
const POLL_MS = 50;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isSharedRuntime(metadata: unknown): boolean {
  return isRecord(metadata) && isRecord(metadata.capabilities) && metadata.capabilities.concurrentClients === true;
}

/**
 * The session `childId` once it registered (up to 5 s): same namespace, machine and process as
 * `source`, shared, bound to a Codex thread (`nativeId` when given). null otherwise.
 */
export async function sharedRuntimeChild(
  sessions: SessionService,
  source: SessionRow,
  childId: string,
  nativeId?: string,
): Promise<SessionRow | null> {
  if (!isSharedRuntime(source.metadata) || childId === source.id) return null;
  const sourceMetadata = source.metadata as Record<string, unknown>;
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const child = await sessions.row(source.namespace, childId);
    const metadata = child && isRecord(child.metadata) ? child.metadata : {};
    if (
      child &&
      metadata.machineId === sourceMetadata.machineId &&
      metadata.hostPid === sourceMetadata.hostPid &&
      isSharedRuntime(metadata) &&
      typeof metadata.codexSessionId === 'string' &&
      metadata.codexSessionId.length > 0 &&
      (nativeId === undefined || metadata.codexSessionId === nativeId)
    )
      return child;
    if (Date.now() >= deadline) return null;
    // The runtime registers the session over its own socket: poll the shared store briefly.
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
