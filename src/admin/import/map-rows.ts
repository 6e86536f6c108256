// Upstream rows → this hub's engine inputs. Presence is not carried: every imported session and
// machine starts inactive (its CLI or runner makes it active again by connecting), but the time
// it was last active is kept (live `activeAt`), as an upstream hub shows after a restart.
import type { AppendMessageInput, CreateMachineInput, CreateSessionInput } from '../../engine/types.js';
import type { UpstreamMachineRow, UpstreamMessageRow, UpstreamSessionRow } from './upstream-rows.js';

function json(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // upstream stores what it was sent; a column that is not JSON is kept as its text
    return text;
  }
}

export function sessionInput(row: UpstreamSessionRow): CreateSessionInput {
  return {
    id: row.id,
    // Upstream's tag column is nullable (every CLI-created session has one); ours is required.
    tag: row.tag ?? row.id,
    metadata: json(row.metadata),
    agentState: json(row.agent_state),
    model: row.model,
    modelReasoningEffort: row.model_reasoning_effort,
    effort: row.effort,
    stored: {
      updatedAt: row.updated_at,
      seq: row.seq ?? 0,
      metadataVersion: row.metadata_version ?? 1,
      agentStateVersion: row.agent_state_version ?? 1,
      serviceTier: row.service_tier,
      pinned: row.pinned === 1,
      globalPinned: row.global_pinned === 1,
    },
  };
}

export function machineInput(row: UpstreamMachineRow): CreateMachineInput {
  return {
    id: row.id,
    metadata: json(row.metadata),
    runnerState: json(row.runner_state),
    stored: {
      updatedAt: row.updated_at,
      seq: row.seq ?? 0,
      metadataVersion: row.metadata_version ?? 1,
      runnerStateVersion: row.runner_state_version ?? 1,
    },
  };
}

export function messageInput(row: UpstreamMessageRow, content: unknown): AppendMessageInput {
  return {
    id: row.id,
    seq: row.seq,
    localId: row.local_id,
    content,
    createdAt: row.created_at,
    invokedAt: row.invoked_at,
  };
}
