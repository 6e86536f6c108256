// The default engine (sqlite) under kill -9 of the whole hub, with real processes: several real
// Socket.IO CLIs send `message` events in a burst and record every ack; the hub process is
// SIGKILLed mid-burst and started again on the same HAPI_DATA_DIR. Every acked message is in the
// REST messages pages, none twice, seqs without gaps; and a browser that reconnects to the
// restarted hub with its Last-Event-ID gets resume 'ok' and exactly the message events it missed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cliRest, closeAll, connectCli } from '../helpers/cli-client.js';
import { createSession, fetchAllMessages } from '../helpers/fixtures.js';
import { randomToken } from '../helpers/hub.js';
import { openSse, splitEventId, type SseFrame } from '../helpers/sse-client.js';
import { loginWeb } from '../helpers/web-api.js';
import { startHubProcess, type HubProcess } from '../interop/support.js';

const CLIS = 4;
/** Emits each CLI keeps in flight: the hub always has writes queued when the kill lands. */
const IN_FLIGHT = 8;
/** Acks seen (all CLIs together) before the kill; the burst has no end of its own. */
const ACKS_BEFORE_KILL = 400;

const scratch = mkdtempSync(join(tmpdir(), 'hapi-sqlite-hub-crash-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const hubs: HubProcess[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  closeAll(...sockets.splice(0));
  for (const hub of hubs.splice(0)) await hub.stop(5_000);
});

interface MessageReceived {
  type: 'message-received';
  sessionId: string;
  message: { localId: string | null; seq: number };
}
function messageReceived(frame: SseFrame): MessageReceived | undefined {
  return frame.event.type === 'message-received' ? (frame.event as unknown as MessageReceived) : undefined;
}

/** Emits `message` with IN_FLIGHT outstanding until the socket drops; every ack is recorded. */
function burst(socket: Socket, sid: string, cli: number, acked: Set<string>, onAck: () => void): void {
  let next = 0;
  const send = (): void => {
    if (!socket.connected) return;
    const localId = `c${cli}-${next++}`;
    socket.emit(
      'message',
      { sid, localId, message: { role: 'agent', content: { type: 'output', data: { cli, localId } } } },
      (answer: unknown) => {
        expect(answer).toEqual({ result: 'ok' });
        acked.add(localId);
        onAck();
        send();
      },
    );
  };
  for (let i = 0; i < IN_FLIGHT; i++) send();
}

describe('sqlite hub under kill -9 (real hub processes)', () => {
  // Both sync modes promise the same for a killed process (a power cut is where they differ).
  it.each(['full', 'normal'])(
    'HAPI_SQLITE_SYNC=%s keeps every acked message once, and resumes an SSE client across the restart',
    async (sync) => {
      const dataDir = join(scratch, `data-${sync}`);
      const env = {
        HAPI_ENGINE: 'sqlite',
        HAPI_SQLITE_SYNC: sync,
        HAPI_DATA_DIR: dataDir,
        CLI_API_TOKEN: randomToken(),
        // The whole burst stays inside the resume window.
        HAPI_EVENT_LOG_MAX_EVENTS: '100000',
      };
      const first = await startHubProcess(env);
      hubs.push(first);
      const rest = cliRest(first.url, first.token);
      const sessions = await Promise.all(Array.from({ length: CLIS }, () => createSession(rest)));
      const jwt = await loginWeb(first.url, first.token);
      const sse = await openSse(first.url, { token: jwt, query: { all: 'true' } });
      expect(sse.status).toBe(200);

      const acked = new Set<string>();
      let killed = false;
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        first.child.once('exit', (_, signal) => resolve(signal)),
      );
      const kill = (): void => {
        if (killed || acked.size < ACKS_BEFORE_KILL) return;
        killed = true;
        first.child.kill('SIGKILL');
      };
      for (const [cli, session] of sessions.entries()) {
        const socket = await connectCli(first.url, {
          token: first.token,
          clientType: 'session-scoped',
          sessionId: session.id,
        });
        sockets.push(socket);
        burst(socket, session.id, cli, acked, kill);
      }
      expect(await exited).toBe('SIGKILL');
      await sse.ended;
      const ackedAtKill = new Set(acked);
      closeAll(...sockets.splice(0));
      expect(ackedAtKill.size).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);

      // The last event the browser saw before the hub died, and the messages it had by then.
      const seenFrames = sse.frames.filter((frame) => frame.id !== undefined);
      const cursor = seenFrames.at(-1)?.id;
      expect(cursor).toBeDefined();
      const seenBefore = seenFrames.flatMap((frame) => messageReceived(frame)?.message.localId ?? []);

      const second = await startHubProcess(env);
      hubs.push(second);
      const again = await openSse(second.url, {
        token: jwt,
        query: { all: 'true' },
        headers: { 'last-event-id': cursor ?? '' },
        timeoutMs: 15_000,
      });
      expect(again.status).toBe(200);
      const hello = await again.next();
      expect(hello.event.type).toBe('connection-changed');
      expect((hello.event.data as { resume: unknown }).resume).toBe('ok');

      const stored: string[] = [];
      const restAgain = cliRest(second.url, second.token);
      for (const session of sessions) {
        const messages = await fetchAllMessages(restAgain, session.id);
        // Dense seqs: no hole where a write was half done.
        expect(messages.map((m) => m.seq)).toEqual(messages.map((_, i) => i + 1));
        stored.push(...messages.map((m) => m.localId ?? ''));
      }
      expect(stored.length).toBe(new Set(stored).size); // none twice
      const storedSet = new Set(stored);
      expect([...ackedAtKill].filter((localId) => !storedSet.has(localId))).toEqual([]); // none lost
      // At most the unacked in-flight emits (committed, but the ack died with the process) on top.
      expect(stored.length - ackedAtKill.size).toBeLessThanOrEqual(CLIS * IN_FLIGHT);

      // The replay after the cursor: every stored message the browser had not seen, each once.
      const seenSet = new Set(seenBefore);
      const missed = stored.filter((localId) => !seenSet.has(localId));
      const replayed = (await again.collect(missed.length, (frame) => messageReceived(frame) !== undefined)).map(
        (frame) => messageReceived(frame)?.message.localId,
      );
      expect(replayed.sort()).toEqual(missed.sort());
      const offsets = again.frames.filter((f) => f.id !== undefined).map((f) => splitEventId(f.id).offset);
      // The browser may have seen every committed message before the kill (then nothing is
      // replayed); whatever is replayed starts right after the cursor.
      if (missed.length > 0 || offsets.length > 0) expect(offsets[0]).toBe(splitEventId(cursor).offset + 1);
      again.close();
    },
    120_000,
  );
});
