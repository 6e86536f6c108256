// Machine events: machine-alive, machine-update-metadata, machine-update-state.
import { describe, expect, it } from 'vitest';
import { UpdateEnvelopeSchema } from '../../src/protocol/socket-events.js';
import { emitAck, isUpdateMachine, nextEvent, pendingEvents, pingBarrier } from '../helpers/cli-client.js';
import { createMachine, fetchMachine, machineMetadata, uniqueNamespace } from '../helpers/fixtures.js';
import { useCliWorld } from './world.js';

const world = useCliWorld();

describe('machine-alive', () => {
  it('makes the machine active and records valid health', async () => {
    const { alice, t } = world;
    const machine = await createMachine(alice.rest);
    expect(machine.active).toBe(false);
    const runner = await alice.connect({ machineId: machine.id });
    const health = { collectedAt: t.clock.now, cpuCount: 4, load1m: 0.5 };
    runner.emit('machine-alive', { machineId: machine.id, time: t.clock.now, health });
    await pingBarrier(runner);
    expect(await fetchMachine(alice.rest, machine.id)).toMatchObject({ active: true, activeAt: t.clock.now, health });
  });

  it('invalid health is stored as null, the keep-alive still counts', async () => {
    const { alice, t } = world;
    const machine = await createMachine(alice.rest);
    const runner = await alice.connect();
    runner.emit('machine-alive', {
      machineId: machine.id,
      time: t.clock.now,
      health: { collectedAt: 'yesterday', extra: 1 },
    });
    await pingBarrier(runner);
    expect(await fetchMachine(alice.rest, machine.id)).toMatchObject({ active: true, health: null });
  });

  it('another namespace → error access-denied (scope machine), unknown → not-found; nothing changes', async () => {
    const { alice, bob, t } = world;
    const machine = await createMachine(alice.rest);
    const intruder = await bob.connect();
    intruder.emit('machine-alive', { machineId: machine.id, time: t.clock.now });
    expect(await nextEvent(intruder, 'error')).toEqual({
      message: 'machine not found',
      code: 'not-found',
      scope: 'machine',
      id: machine.id,
    });
    const unknown = `m-${uniqueNamespace()}`;
    intruder.emit('machine-alive', { machineId: unknown, time: t.clock.now });
    expect(await nextEvent(intruder, 'error')).toEqual({
      message: 'machine not found',
      code: 'not-found',
      scope: 'machine',
      id: unknown,
    });
    expect((await fetchMachine(alice.rest, machine.id)).active).toBe(false);
  });
});

describe('machine-update-metadata', () => {
  it('success: plain replace (no merge), version+1, update-machine to the others', async () => {
    const { alice } = world;
    const machine = await createMachine(alice.rest, { metadata: machineMetadata({ workspaceRoots: ['/a'] }) });
    const sender = await alice.connect({ machineId: machine.id });
    const peer = await alice.connect({ machineId: machine.id });
    await pingBarrier(peer);
    const metadata = { host: 'renamed', platform: 'linux', happyCliVersion: '0.30.1' };
    expect(
      await emitAck(sender, 'machine-update-metadata', { machineId: machine.id, expectedVersion: 1, metadata }),
    ).toEqual({ result: 'success', version: 2, metadata });
    const update = UpdateEnvelopeSchema.parse(await nextEvent(peer, 'update', isUpdateMachine(machine.id)));
    expect(update.body).toEqual({
      t: 'update-machine',
      machineId: machine.id,
      metadata: { version: 2, value: metadata },
      runnerState: null,
    });
    expect(await fetchMachine(alice.rest, machine.id)).toMatchObject({ metadataVersion: 2, metadata });
    await pingBarrier(sender);
    expect(pendingEvents(sender, 'update')).toEqual([]);
  });

  it('version mismatch, access-denied, not-found, invalid-payload', async () => {
    const { alice, bob } = world;
    const machine = await createMachine(alice.rest);
    const socket = await alice.connect();
    expect(
      await emitAck(socket, 'machine-update-metadata', { machineId: machine.id, expectedVersion: 3, metadata: {} }),
    ).toEqual({
      result: 'version-mismatch',
      version: 1,
      metadata: machineMetadata(),
    });
    const intruder = await bob.connect();
    expect(
      await emitAck(intruder, 'machine-update-metadata', { machineId: machine.id, expectedVersion: 1, metadata: {} }),
    ).toEqual({ result: 'error', reason: 'not-found' });
    expect(
      await emitAck(intruder, 'machine-update-metadata', {
        machineId: 'no-such-machine',
        expectedVersion: 1,
        metadata: {},
      }),
    ).toEqual({ result: 'error', reason: 'not-found' });
    expect(
      await emitAck(socket, 'machine-update-metadata', { machineId: machine.id, expectedVersion: -1, metadata: {} }),
    ).toEqual({ result: 'error', reason: 'invalid-payload' });
    expect(await fetchMachine(alice.rest, machine.id)).toMatchObject({
      metadataVersion: 1,
      metadata: machineMetadata(),
    });
  });
});

describe('machine-update-state', () => {
  it('success: replaces runnerState, acks it, fans out, and marks the machine active', async () => {
    const { alice, t } = world;
    const machine = await createMachine(alice.rest);
    const sender = await alice.connect({ machineId: machine.id });
    const peer = await alice.connect({ machineId: machine.id });
    await pingBarrier(peer);
    const runnerState = { status: 'running', pid: 1234, httpPort: 9999, startedAt: t.clock.now };
    expect(
      await emitAck(sender, 'machine-update-state', { machineId: machine.id, expectedVersion: 1, runnerState }),
    ).toEqual({ result: 'success', version: 2, runnerState });
    const update = UpdateEnvelopeSchema.parse(await nextEvent(peer, 'update', isUpdateMachine(machine.id)));
    expect(update.body).toEqual({
      t: 'update-machine',
      machineId: machine.id,
      metadata: null,
      runnerState: { version: 2, value: runnerState },
    });
    expect(await fetchMachine(alice.rest, machine.id)).toMatchObject({
      active: true,
      activeAt: t.clock.now,
      runnerStateVersion: 2,
      runnerState,
    });
  });

  it('version mismatch, access-denied, not-found, invalid-payload — and none of them activates the machine', async () => {
    const { alice, bob } = world;
    const machine = await createMachine(alice.rest, { runnerState: { status: 'offline' } });
    const socket = await alice.connect();
    expect(
      await emitAck(socket, 'machine-update-state', {
        machineId: machine.id,
        expectedVersion: 2,
        runnerState: { status: 'running' },
      }),
    ).toEqual({
      result: 'version-mismatch',
      version: 1,
      runnerState: { status: 'offline' },
    });
    const intruder = await bob.connect();
    expect(
      await emitAck(intruder, 'machine-update-state', {
        machineId: machine.id,
        expectedVersion: 1,
        runnerState: { status: 'evil' },
      }),
    ).toEqual({ result: 'error', reason: 'not-found' });
    expect(
      await emitAck(intruder, 'machine-update-state', { machineId: 'nobody', expectedVersion: 1, runnerState: null }),
    ).toEqual({ result: 'error', reason: 'not-found' });
    expect(await emitAck(socket, 'machine-update-state', [machine.id])).toEqual({
      result: 'error',
      reason: 'invalid-payload',
    });
    expect(await fetchMachine(alice.rest, machine.id)).toMatchObject({
      active: false,
      runnerStateVersion: 1,
      runnerState: { status: 'offline' },
    });
  });
});
