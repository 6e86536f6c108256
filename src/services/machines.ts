// Machine (runner) registration, versioned writes and keep-alives.
import { randomUUID } from 'node:crypto';
import type { CreateMachineInput, MachineField, MachineRow } from '../engine/types.js';
import { MachineHealthSchema, type Machine } from '../protocol/models.js';
import type { UpdateBody } from '../protocol/socket-events.js';
import { machineAccess, type AccessFailure, type VersionedWriteOutcome } from './access.js';
import { clampAliveTime } from './alive-time.js';
import type { ServiceDeps } from './deps.js';
import type { PresenceBatcher } from './presence-batcher.js';
import { LimitsService } from './limits.js';
import { mergeMachineMetadata, mergeRunnerCapabilities, sameJson } from './metadata-merge.js';
import { machineToWire } from './wire.js';

const REGISTRATION_ATTEMPTS = 5;

export class MachineService {
  constructor(
    private readonly deps: ServiceDeps,
    /** Keep-alives go through here: coalesced with other beats arriving within a few ms. */
    private readonly beats: PresenceBatcher,
  ) {}

  private now(): number {
    return this.deps.clock();
  }

  access(namespace: string, id: string) {
    return machineAccess(this.deps.engine, namespace, id);
  }

  /** Whether the namespace has the machine, without reading its row. */
  exists(namespace: string, id: string): Promise<boolean> {
    return this.deps.engine.machines.exists(namespace, id);
  }

  async get(
    namespace: string,
    id: string,
  ): Promise<{ ok: true; machine: Machine } | { ok: false; reason: AccessFailure }> {
    const access = await this.access(namespace, id);
    if (!access.ok) return access;
    return { ok: true, machine: machineToWire(access.row) };
  }

  async list(namespace: string, onlyActive: boolean): Promise<Machine[]> {
    const rows = await this.deps.engine.machines.list(namespace);
    return rows.filter((row) => !onlyActive || row.live.active === true).map(machineToWire);
  }

  /**
   * POST /cli/machines (and the machine part of POST /cli/sessions): create, or merge the
   * registration into the stored machine with upstream's rules. Merges are CAS-retried.
   */
  async createOrLoad(namespace: string, input: CreateMachineInput): Promise<Machine> {
    // A known machine re-registering is never refused; a new one needs room in the quota.
    const known = (await this.deps.engine.machines.get(namespace, input.id)) !== null;
    if (!known) LimitsService.orThrow(await this.deps.limits.reserve(namespace, 'machines', 1));
    const created = await this.deps.engine.machines.getOrCreate(namespace, input, this.now());
    if (!known && !created.created) await this.deps.limits.release(namespace, 'machines', 1);
    let row = created.machine;
    if (!created.created) {
      const isRunner = input.runnerState !== null && input.runnerState !== undefined;
      row = await this.mergeRegistration(namespace, row, 'metadata', (stored) =>
        mergeMachineMetadata(stored, input.metadata, isRunner),
      );
      if (isRunner)
        row = await this.mergeRegistration(namespace, row, 'runnerState', (stored) =>
          mergeRunnerCapabilities(stored, input.runnerState),
        );
    }
    const machine = machineToWire(row);
    await this.deps.events.publish(namespace, { type: 'machine-updated', machineId: machine.id, data: machine });
    return machine;
  }

  private async mergeRegistration(
    namespace: string,
    row: MachineRow,
    field: MachineField,
    merge: (stored: unknown) => unknown,
  ): Promise<MachineRow> {
    let current = row;
    for (let attempt = 0; attempt < REGISTRATION_ATTEMPTS; attempt += 1) {
      const next = merge(current[field]);
      if (sameJson(next, current[field])) return current;
      const version = field === 'metadata' ? current.metadataVersion : current.runnerStateVersion;
      const cas = await this.deps.engine.machines.compareAndSet(namespace, current.id, field, version, next, {
        now: this.now(),
      });
      const fresh = await this.deps.engine.machines.get(namespace, current.id);
      if (!fresh) return current;
      current = fresh;
      if (cas.result === 'success' || cas.result === 'not-found') return current;
    }
    return current;
  }

  updateMetadata(
    namespace: string,
    id: string,
    expectedVersion: number,
    metadata: unknown,
    senderSocketId?: string,
  ): Promise<VersionedWriteOutcome> {
    return this.versionedWrite(namespace, id, 'metadata', expectedVersion, metadata, senderSocketId);
  }

  /** machine-update-state also marks the machine online (upstream persists active here). */
  updateRunnerState(
    namespace: string,
    id: string,
    expectedVersion: number,
    runnerState: unknown,
    senderSocketId?: string,
  ): Promise<VersionedWriteOutcome> {
    return this.versionedWrite(namespace, id, 'runnerState', expectedVersion, runnerState ?? null, senderSocketId);
  }

  private async versionedWrite(
    namespace: string,
    id: string,
    field: MachineField,
    expectedVersion: number,
    value: unknown,
    senderSocketId: string | undefined,
  ): Promise<VersionedWriteOutcome> {
    const now = this.now();
    const cas = await this.deps.engine.machines.compareAndSet(namespace, id, field, expectedVersion, value, { now });
    if (cas.result === 'not-found') {
      const access = await this.access(namespace, id);
      return { result: 'error', reason: access.ok ? 'not-found' : access.reason };
    }
    if (cas.result === 'success') {
      const versioned = { version: cas.version, value: cas.value };
      const body: UpdateBody =
        field === 'metadata'
          ? { t: 'update-machine', machineId: id, metadata: versioned, runnerState: null }
          : { t: 'update-machine', machineId: id, metadata: null, runnerState: versioned };
      this.deps.cli.emitUpdate(
        { kind: 'machine', namespace, id },
        { id: randomUUID(), seq: now, createdAt: now, body },
        senderSocketId,
      );
      if (field === 'runnerState') await this.refreshPresence(namespace, id, now, {});
      await this.publishFull(namespace, id);
    }
    return cas;
  }

  private refreshPresence(namespace: string, id: string, activeAt: number, fields: Record<string, string | null>) {
    const now = this.now();
    return this.beats.refresh(namespace, 'machine', id, {
      deadline: now + this.deps.timings.machineTtlMs,
      activeAt,
      fields,
      now,
      broadcastThrottleMs: this.deps.timings.aliveBroadcastThrottleMs,
    });
  }

  async publishFull(namespace: string, id: string): Promise<void> {
    const row = await this.deps.engine.machines.get(namespace, id);
    if (row) {
      await this.deps.events.publish(namespace, { type: 'machine-updated', machineId: id, data: machineToWire(row) });
    }
  }

  /** machine-alive: presence refresh; the full machine is announced when it became active, health changed, or every 10 s. */
  async handleAlive(
    namespace: string,
    machineId: string,
    time: number,
    health: unknown,
  ): Promise<AccessFailure | 'ok' | 'ignored'> {
    const now = this.now();
    const activeAt = clampAliveTime(time, now);
    if (activeAt === null) return 'ignored';
    const parsedHealth = MachineHealthSchema.safeParse(health);
    const result = await this.refreshPresence(namespace, machineId, activeAt, {
      health: parsedHealth.success ? JSON.stringify(parsedHealth.data) : null,
    });
    if (!result.found) {
      const access = await this.access(namespace, machineId);
      return access.ok ? 'ignored' : access.reason;
    }
    if (result.broadcastDue) await this.publishFull(namespace, machineId);
    return 'ok';
  }
}
