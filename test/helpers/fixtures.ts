// Small builders for plane tests: valid metadata, sessions and machines created over /cli REST.
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { MachineSchema, SessionSchema, type Machine, type Session } from '../../src/protocol/models.js';
import type { CliRest } from './cli-client.js';

/** A namespace name nobody else uses (valid for the access-token grammar). */
export function uniqueNamespace(prefix = 'ns'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Session metadata that passes MetadataSchema (path + host required). */
export function sessionMetadata(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { path: '/work/project', host: 'test-host', flavor: 'claude', lifecycleState: 'running', ...extra };
}

/** Machine metadata that passes MachineMetadataSchema. */
export function machineMetadata(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { host: 'test-host', platform: 'linux', happyCliVersion: '0.30.0', homeDir: '/home/test', ...extra };
}

/** POST /cli/sessions with a fresh tag (unless given); asserts 200 and SessionSchema. */
export async function createSession(rest: CliRest, body: Record<string, unknown> = {}): Promise<Session> {
  const response = await rest.createSession({
    tag: randomUUID(),
    metadata: sessionMetadata(),
    agentState: {},
    ...body,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return SessionSchema.parse(response.body.session);
}

/** POST /cli/machines with a fresh id (unless given); asserts 200 and MachineSchema. */
export async function createMachine(rest: CliRest, body: Record<string, unknown> = {}): Promise<Machine> {
  const response = await rest.createMachine({
    id: `machine-${randomUUID()}`,
    metadata: machineMetadata(),
    runnerState: null,
    ...body,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return MachineSchema.parse(response.body.machine);
}

/** GET /cli/sessions/:id; asserts 200 and SessionSchema. */
export async function fetchSession(rest: CliRest, id: string): Promise<Session> {
  const response = await rest.getSession(id);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return SessionSchema.parse(response.body.session);
}

/** GET /cli/machines/:id; asserts 200 and MachineSchema. */
export async function fetchMachine(rest: CliRest, id: string): Promise<Machine> {
  const response = await rest.getMachine(id);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return MachineSchema.parse(response.body.machine);
}

/** Every message of a session over GET /cli/sessions/:id/messages (pages of 200). */
export async function fetchAllMessages(
  rest: CliRest,
  id: string,
): Promise<{ id: string; seq: number; localId: string | null; content: unknown; createdAt: number }[]> {
  const all: { id: string; seq: number; localId: string | null; content: unknown; createdAt: number }[] = [];
  for (let afterSeq = 0; ; ) {
    const response = await rest.getMessages(id, { afterSeq, limit: 200 });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const page = response.body.messages as typeof all;
    all.push(...page);
    if (page.length < 200) return all;
    afterSeq = page[page.length - 1]!.seq;
  }
}
