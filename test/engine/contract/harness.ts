// Shared plumbing for the engine contract: engine lifecycle per test and small builders.
// Every test uses fresh random namespaces and ids, so engines backed by one shared store (a
// single Redis for the whole file) cannot leak state from one test into another.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, expect } from 'vitest';
import type { Engine } from '../../../src/engine/engine.js';
import type { AppendMessageInput, EngineOptions, SessionRow } from '../../../src/engine/types.js';

export type MakeEngine = (options: EngineOptions) => Promise<{ engine: Engine; cleanup: () => Promise<void> }>;

export const DEFAULT_OPTIONS: EngineOptions = {
  eventLogMaxEvents: 256,
  eventLogMaxBytes: 2 * 1024 * 1024,
  messageHistoryLimit: 0,
};

/**
 * Injected clock base, far below the wall clock so this suite's presence sweeps
 * (presence.expireOverdue(now ≈ T0)) never expire entries that other suites create with real
 * Date.now() deadlines. The reverse is not guarded: a wall-clock sweeper running concurrently on
 * the same store would steal this suite's entries, so give the contract a store (or key prefix)
 * of its own.
 */
export const T0 = 1_000_000;

export interface EngineHarness {
  /** The engine of the running test, created with DEFAULT_OPTIONS. */
  engine(): Engine;
  /** An extra engine with some options changed; cleaned up after the test. */
  engineWith(options: Partial<EngineOptions>): Promise<Engine>;
}

/** Registers beforeEach/afterEach in the calling describe block. */
export function createHarness(makeEngine: MakeEngine): EngineHarness {
  let current: Engine | undefined;
  const cleanups: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    const made = await makeEngine(DEFAULT_OPTIONS);
    current = made.engine;
    cleanups.push(made.cleanup);
  });

  afterEach(async () => {
    current = undefined;
    for (let cleanup = cleanups.pop(); cleanup; cleanup = cleanups.pop()) await cleanup();
  });

  return {
    engine() {
      if (!current) throw new Error('engine() is only available inside a test');
      return current;
    },
    async engineWith(options) {
      const made = await makeEngine({ ...DEFAULT_OPTIONS, ...options });
      cleanups.push(made.cleanup);
      return made.engine;
    },
  };
}

export function uniqueNamespace(): string {
  return `ns-${randomUUID()}`;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

/** Creates a session that must not exist yet and returns its row. */
export async function createSession(engine: Engine, ns: string, now = T0): Promise<SessionRow> {
  const result = await engine.sessions.getOrCreate(
    ns,
    { tag: uniqueName('tag'), metadata: { path: '/w' }, agentState: null },
    now,
  );
  if (!result.ok || !result.created) throw new Error(`expected a new session, got ${JSON.stringify(result)}`);
  return result.session;
}

/** A message input with a fresh id; invoked at createdAt unless overridden. */
export function messageInput(overrides: Partial<AppendMessageInput> & { createdAt: number }): AppendMessageInput {
  return {
    id: randomUUID(),
    content: { role: 'user', text: `message ${overrides.createdAt}` },
    invokedAt: overrides.createdAt,
    ...overrides,
  };
}

/** Appends and asserts the insert happened; returns the stored row. */
export async function appendInserted(engine: Engine, ns: string, sessionId: string, input: AppendMessageInput) {
  const result = await engine.messages.append(ns, sessionId, input);
  if (!result.ok) throw new Error(`append failed: ${result.reason}`);
  expect(result.inserted).toBe(true);
  return result.message;
}
