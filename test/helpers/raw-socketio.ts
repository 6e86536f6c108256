// A raw engine.io v4 / socket.io v5 client over a real websocket (Node's WebSocket) or real HTTP
// long-polling, for sending frames no well-behaved client would: malformed packets, payloads the
// socket.io-client encoder cannot serialise (JSON text nested 100,000 deep), odd event names.
//
//   const raw = await openRawCli(t.url, { token }, 'websocket');
//   const ack = await raw.emitText('update-metadata', '{"sid":"x","metadata":[[[…]]]}');  // ack args
//   raw.send('42/cli,garbage');                                                             // any frame
//   await raw.close();
//
// Frames: engine.io packet type digit ('0' open, '2' ping, '3' pong, '4' message) followed by a
// socket.io packet for the '4' type ('0' connect, '2' event, '3' ack, '4' connect error), with
// the namespace ('/cli,') and an optional ack id before the JSON array.

export type RawTransport = 'websocket' | 'polling';

export interface RawCli {
  readonly transport: RawTransport;
  /** The engine.io session id. */
  readonly sid: string;
  /** Sends one raw engine.io frame as is. */
  send(frame: string): Promise<void>;
  /** Emits `event` with `payloadJson` (raw JSON text) and an ack id; resolves with the ack's arguments (JSON text). */
  emitText(event: string, payloadJson: string, timeoutMs?: number): Promise<string>;
  /** Sends `42/cli,<id><argsJson>` (argsJson is the raw JSON array) and waits for its ack. */
  emitRawArgs(argsJson: string, timeoutMs?: number): Promise<string>;
  /** Round-trip barrier through the hub's ordered `ping` handler. */
  ping(timeoutMs?: number): Promise<void>;
  /** Every socket.io frame received for /cli so far (engine.io pings excluded). */
  readonly received: string[];
  /** True once the server closed the connection (or it failed). */
  readonly closed: boolean;
  close(): Promise<void>;
}

const NSP = '/cli';

interface Pending {
  resolve: (args: string) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** Connects to /cli with `auth` and resolves once the namespace CONNECT is accepted. */
export async function openRawCli(
  baseUrl: string,
  auth: Record<string, unknown>,
  transport: RawTransport,
  timeoutMs = 5_000,
): Promise<RawCli> {
  const link =
    transport === 'websocket' ? await openWebsocket(baseUrl, timeoutMs) : await openPolling(baseUrl, timeoutMs);
  const received: string[] = [];
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let connected: ((error?: Error) => void) | null = null;
  const state = { closed: false };

  const failAll = (reason: string) => {
    state.closed = true;
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      pending.delete(id);
      p.reject(new Error(reason));
    }
    connected?.(new Error(reason));
  };

  link.onFrame((frame) => {
    if (frame === '2') {
      void link.send('3').catch(() => undefined);
      return;
    }
    if (!frame.startsWith('4')) return;
    const packet = frame.slice(1);
    if (
      !packet.startsWith(`0${NSP},`) &&
      !packet.startsWith(`2${NSP},`) &&
      !packet.startsWith(`3${NSP},`) &&
      !packet.startsWith(`4${NSP},`) &&
      !packet.startsWith(`1${NSP},`)
    )
      return;
    received.push(packet);
    const type = packet[0];
    const body = packet.slice(NSP.length + 2);
    if (type === '0') connected?.();
    else if (type === '4') connected?.(new Error(`connect refused: ${body}`));
    else if (type === '3') {
      const match = /^(\d+)(.*)$/s.exec(body);
      if (!match) return;
      const id = Number(match[1]);
      const p = pending.get(id);
      if (!p) return;
      clearTimeout(p.timer);
      pending.delete(id);
      p.resolve(match[2] ?? '');
    }
  });
  link.onClose(() => failAll('connection closed'));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`raw ${transport}: no namespace connect within ${timeoutMs} ms`)),
      timeoutMs,
    );
    connected = (error) => {
      clearTimeout(timer);
      connected = null;
      if (error) reject(error);
      else resolve();
    };
    void link.send(`40${NSP},${JSON.stringify(auth)}`).catch((error: unknown) => reject(error as Error));
  });

  const emitRawArgs = (argsJson: string, timeout = 5_000): Promise<string> => {
    if (state.closed) return Promise.reject(new Error('connection closed'));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`raw ${transport}: no ack ${id} within ${timeout} ms for ${argsJson.slice(0, 120)}`));
      }, timeout);
      pending.set(id, { resolve, reject, timer });
      link.send(`42${NSP},${id}${argsJson}`).catch((error: unknown) => {
        clearTimeout(timer);
        pending.delete(id);
        reject(error as Error);
      });
    });
  };

  return {
    transport,
    sid: link.sid,
    send: (frame) => link.send(frame),
    emitText: (event, payloadJson, timeout) => emitRawArgs(`[${JSON.stringify(event)},${payloadJson}]`, timeout),
    emitRawArgs,
    async ping(timeout) {
      await emitRawArgs('["ping"]', timeout);
    },
    received,
    get closed() {
      return state.closed;
    },
    async close() {
      state.closed = true;
      await link.close();
    },
  };
}

interface Link {
  sid: string;
  send(frame: string): Promise<void>;
  onFrame(listener: (frame: string) => void): void;
  onClose(listener: () => void): void;
  close(): Promise<void>;
}

function parseOpen(frame: string): string {
  if (!frame.startsWith('0')) throw new Error(`expected an engine.io open packet, got ${frame.slice(0, 80)}`);
  return (JSON.parse(frame.slice(1)) as { sid: string }).sid;
}

async function openWebsocket(baseUrl: string, timeoutMs: number): Promise<Link> {
  const url = `${baseUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
  const ws = new WebSocket(url);
  const frameListeners: ((frame: string) => void)[] = [];
  const closeListeners: (() => void)[] = [];
  const early: string[] = [];
  let closed = false;
  ws.addEventListener('message', (event) => {
    const frame = typeof event.data === 'string' ? event.data : '';
    if (frameListeners.length === 0) early.push(frame);
    for (const listener of frameListeners) listener(frame);
  });
  ws.addEventListener('close', () => {
    closed = true;
    for (const listener of closeListeners) listener();
  });
  const sid = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`raw websocket: no open packet within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const check = () => {
      const first = early.shift();
      if (first === undefined) return;
      clearTimeout(timer);
      try {
        resolve(parseOpen(first));
      } catch (error) {
        reject(error as Error);
      }
    };
    ws.addEventListener('message', check, { once: true });
    ws.addEventListener('error', () => reject(new Error('raw websocket: connection failed')), { once: true });
  });
  return {
    sid,
    async send(frame) {
      if (closed || ws.readyState !== WebSocket.OPEN) throw new Error('connection closed');
      ws.send(frame);
    },
    onFrame: (listener) => void frameListeners.push(listener),
    onClose: (listener) => void closeListeners.push(listener),
    close: () =>
      new Promise<void>((resolve) => {
        if (closed || ws.readyState === WebSocket.CLOSED) return resolve();
        ws.addEventListener('close', () => resolve(), { once: true });
        ws.close();
      }),
  };
}

/** engine.io long-polling: GET returns queued packets (separated by \x1e), POST sends them. */
async function openPolling(baseUrl: string, timeoutMs: number): Promise<Link> {
  const base = `${baseUrl}/socket.io/?EIO=4&transport=polling`;
  const first = await fetch(base, { signal: AbortSignal.timeout(timeoutMs) });
  const sid = parseOpen((await first.text()).split('\x1e')[0] ?? '');
  const url = `${base}&sid=${encodeURIComponent(sid)}`;
  const frameListeners: ((frame: string) => void)[] = [];
  const closeListeners: (() => void)[] = [];
  const abort = new AbortController();
  let closed = false;
  const markClosed = () => {
    if (closed) return;
    closed = true;
    for (const listener of closeListeners) listener();
  };
  // One outstanding GET at a time, as engine.io requires; ends when the session ends. Each GET is
  // bounded by the server's ping interval (25 s) plus a margin.
  const poll = async () => {
    while (!closed) {
      let text: string;
      try {
        const res = await fetch(url, { signal: AbortSignal.any([abort.signal, AbortSignal.timeout(60_000)]) });
        if (res.status !== 200) return markClosed();
        text = await res.text();
      } catch {
        return markClosed();
      }
      for (const frame of text.split('\x1e')) {
        if (frame === '1') return markClosed();
        for (const listener of frameListeners) listener(frame);
      }
    }
  };
  void poll();
  return {
    sid,
    async send(frame) {
      if (closed) throw new Error('connection closed');
      const res = await fetch(url, {
        method: 'POST',
        body: frame,
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.text();
      if (res.status !== 200) {
        markClosed();
        throw new Error(`connection closed (polling POST ${res.status})`);
      }
    },
    onFrame: (listener) => void frameListeners.push(listener),
    onClose: (listener) => void closeListeners.push(listener),
    async close() {
      if (!closed) {
        await fetch(url, { method: 'POST', body: '1', headers: { 'content-type': 'text/plain;charset=UTF-8' } }).catch(
          () => undefined,
        );
      }
      closed = true;
      abort.abort();
    },
  };
}
