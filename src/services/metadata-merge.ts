// Upstream's metadata rules, kept in one place for both engines.

/** Keys the CLI may omit on a write without losing them (explicit null deletes). */
const CARRIED_SESSION_KEYS = [
  'path',
  'host',
  'flavor',
  'machineId',
  'claudeSessionId',
  'codexSessionId',
  'geminiSessionId',
  'opencodeSessionId',
  'grokSessionId',
  'cursorSessionId',
  'kimiSessionId',
  'copilotSessionId',
  'piSessionId',
] as const;

/** Keys only the hub writes; whatever the CLI sends for them is replaced by the stored value. */
const HUB_OWNED_SESSION_KEYS = ['supersededBySessionId', 'opencodeClearOperation'] as const;

/** Runner-registration keys that disappear when a registering runner no longer sends them. */
const RUNNER_OWNED_MACHINE_KEYS = [
  'capabilities',
  'supervisedRestart',
  'startedCliMtimeMs',
  'installedCliMtimeMs',
] as const;

type JsonObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function mergeSessionMetadata(prior: unknown, incoming: unknown): unknown {
  if (!isPlainObject(incoming)) return incoming;
  const next: JsonObject = { ...incoming };
  // Hub-owned keys are protected whatever the stored value is (also when it is null).
  for (const key of HUB_OWNED_SESSION_KEYS) {
    if (isPlainObject(prior) && key in prior) next[key] = prior[key];
    else delete next[key];
  }
  if (!isPlainObject(prior)) return next;
  for (const key of CARRIED_SESSION_KEYS) {
    if (next[key] === undefined && prior[key] !== undefined) next[key] = prior[key];
    if (next[key] === null) delete next[key];
  }
  // The protocol belongs to the cursor session id: carry it only when the id was not (re)set.
  if (
    incoming.cursorSessionId === undefined &&
    next.cursorSessionProtocol === undefined &&
    prior.cursorSessionProtocol !== undefined
  ) {
    next.cursorSessionProtocol = prior.cursorSessionProtocol;
  }
  return next;
}

export function mergeMachineMetadata(stored: unknown, incoming: unknown, isRunnerRegistration: boolean): unknown {
  if (!isPlainObject(stored) || !isPlainObject(incoming)) return incoming;
  const merged: JsonObject = { ...stored, ...incoming };
  if (isRunnerRegistration) {
    for (const key of RUNNER_OWNED_MACHINE_KEYS) {
      if (!(key in incoming)) delete merged[key];
    }
  }
  return merged;
}

/** Only the runner's capabilities are taken from a registration; live fields belong to machine-update-state. */
export function mergeRunnerCapabilities(stored: unknown, incoming: unknown): unknown {
  if (!isPlainObject(incoming) || !('capabilities' in incoming)) return stored;
  const base = isPlainObject(stored) ? stored : {};
  return { ...base, capabilities: incoming.capabilities };
}

export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
