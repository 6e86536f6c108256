// Liveness with the injected clock: 30 s session / 45 s machine expiry, driven by hand-run sweeps.
import { describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { emitAck, pingBarrier } from '../helpers/cli-client.js';
import { createMachine, createSession, fetchMachine, fetchSession } from '../helpers/fixtures.js';
import { useCliWorld } from './world.js';

// A hub per test: sweeps are hub-wide and the clock only moves forward.
const world = useCliWorld({ perTest: true });

async function sessionAlive(socket: Socket, sid: string, time = world.t.clock.now): Promise<void> {
  socket.emit('session-alive', { sid, time, thinking: false, mode: 'remote' });
  await pingBarrier(socket);
}

async function machineAlive(socket: Socket, machineId: string, time = world.t.clock.now): Promise<void> {
  socket.emit('machine-alive', { machineId, time });
  await pingBarrier(socket);
}

/**
 * Announced transitions to inactive (patches with `active:false`) in the namespace's event log
 * for this object. Full snapshots (creation, registration) carry `id` and are not transitions.
 */
async function inactiveAnnouncements(ns: string, id: string): Promise<number> {
  const { events } = await world.t.engine.events.read(ns, 0);
  return events
    .map(
      (e) =>
        JSON.parse(e.json) as {
          type: string;
          sessionId?: string;
          machineId?: string;
          data?: { active?: boolean; id?: string };
        },
    )
    .filter((e) => (e.sessionId === id || e.machineId === id) && e.data?.active === false && e.data.id === undefined)
    .length;
}

const sweep = () => world.t.hub.services.sweeper.sweep();

describe('session liveness', () => {
  it('active after session-alive; still active at 29 s; inactive after 30 s with exactly one expiry', async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    const cli = await alice.connect({ sessionId: session.id });
    await sessionAlive(cli, session.id);
    expect((await fetchSession(alice.rest, session.id)).active).toBe(true);

    t.clock.advance(29_000);
    expect(await sweep()).toBe(0);
    expect((await fetchSession(alice.rest, session.id)).active).toBe(true);

    t.clock.advance(1_001);
    expect(await sweep()).toBe(1);
    expect(await fetchSession(alice.rest, session.id)).toMatchObject({ active: false, thinking: false });
    expect(await sweep()).toBe(0);
    expect(await inactiveAnnouncements(alice.ns, session.id)).toBe(1);
  });

  it.each([2_000, 5_000])('keep-alives every %i ms keep it active for 60 s of clock time', async (interval) => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    const cli = await alice.connect({ sessionId: session.id });
    await sessionAlive(cli, session.id);
    const states: boolean[] = [];
    for (let elapsed = 0; elapsed < 60_000; elapsed += interval) {
      t.clock.advance(interval);
      await sessionAlive(cli, session.id);
      expect(await sweep()).toBe(0);
      states.push((await fetchSession(alice.rest, session.id)).active);
    }
    expect(states.every(Boolean)).toBe(true);
    expect(states).toHaveLength(60_000 / interval);
    expect(await inactiveAnnouncements(alice.ns, session.id)).toBe(0);
  });

  it('a future alive time counts as now', async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    const cli = await alice.connect();
    await sessionAlive(cli, session.id, t.clock.now + 3_600_000);
    expect(await fetchSession(alice.rest, session.id)).toMatchObject({ active: true, activeAt: t.clock.now });
    t.clock.advance(30_000);
    expect(await sweep()).toBe(1);
    expect((await fetchSession(alice.rest, session.id)).active).toBe(false);
  });

  it('an alive time older than 10 minutes is ignored (session not activated)', async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    const cli = await alice.connect();
    await sessionAlive(cli, session.id, t.clock.now - 10 * 60_000 - 1);
    expect((await fetchSession(alice.rest, session.id)).active).toBe(false);
    await sessionAlive(cli, session.id, t.clock.now - 9 * 60_000);
    expect(await fetchSession(alice.rest, session.id)).toMatchObject({
      active: true,
      activeAt: t.clock.now - 9 * 60_000,
    });
  });

  it('session-end then expiry: no second inactive announcement', async () => {
    const { alice, t } = world;
    const session = await createSession(alice.rest);
    const cli = await alice.connect();
    await sessionAlive(cli, session.id);
    cli.emit('session-end', { sid: session.id, time: t.clock.now, reason: 'completed' });
    await pingBarrier(cli);
    t.clock.advance(60_000);
    expect(await sweep()).toBe(0);
    expect(await inactiveAnnouncements(alice.ns, session.id)).toBe(1);
  });
});

describe('machine liveness', () => {
  it.each([20_000, 10_000])('machine-alive every %i ms keeps it active', async (interval) => {
    const { alice, t } = world;
    const machine = await createMachine(alice.rest);
    const runner = await alice.connect({ machineId: machine.id });
    await machineAlive(runner, machine.id);
    for (let elapsed = 0; elapsed < 120_000; elapsed += interval) {
      t.clock.advance(interval);
      await machineAlive(runner, machine.id);
      expect(await sweep()).toBe(0);
      expect((await fetchMachine(alice.rest, machine.id)).active).toBe(true);
    }
    expect(await inactiveAnnouncements(alice.ns, machine.id)).toBe(0);
  });

  it('45 s of silence expires it (not 44.999 s), exactly once', async () => {
    const { alice, t } = world;
    const machine = await createMachine(alice.rest);
    const runner = await alice.connect();
    await machineAlive(runner, machine.id);
    t.clock.advance(44_999);
    expect(await sweep()).toBe(0);
    expect((await fetchMachine(alice.rest, machine.id)).active).toBe(true);
    t.clock.advance(1);
    expect(await sweep()).toBe(1);
    expect((await fetchMachine(alice.rest, machine.id)).active).toBe(false);
    expect(await sweep()).toBe(0);
    expect(await inactiveAnnouncements(alice.ns, machine.id)).toBe(1);
  });

  it('machine-update-state counts as a keep-alive', async () => {
    const { alice, t } = world;
    const machine = await createMachine(alice.rest);
    const runner = await alice.connect();
    let version = 1;
    for (let elapsed = 0; elapsed < 90_000; elapsed += 30_000) {
      const ack = await emitAck<{ result: string; version: number }>(runner, 'machine-update-state', {
        machineId: machine.id,
        expectedVersion: version,
        runnerState: { status: 'running', tick: elapsed },
      });
      expect(ack.result).toBe('success');
      version = ack.version;
      t.clock.advance(30_000);
      expect(await sweep()).toBe(0);
      expect((await fetchMachine(alice.rest, machine.id)).active).toBe(true);
    }
    t.clock.advance(15_000);
    expect(await sweep()).toBe(1);
    expect((await fetchMachine(alice.rest, machine.id)).active).toBe(false);
  });

  it('an alive time older than 10 minutes does not activate the machine', async () => {
    const { alice, t } = world;
    const machine = await createMachine(alice.rest);
    const runner = await alice.connect();
    await machineAlive(runner, machine.id, t.clock.now - 11 * 60_000);
    expect((await fetchMachine(alice.rest, machine.id)).active).toBe(false);
    await machineAlive(runner, machine.id, t.clock.now + 5_000);
    expect(await fetchMachine(alice.rest, machine.id)).toMatchObject({ active: true, activeAt: t.clock.now });
  });
});
