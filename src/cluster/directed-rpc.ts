// Directed RPC between workers: a REST→CLI call goes to the one worker that holds the target
// socket, over that worker's own Redis channel, instead of the adapter's broadcast-with-ack
// (which asks Redis how many workers there are, wakes every worker with the request and waits
// for each one's reply). The RPC route names the worker: `<socket id>@<worker uid>`, written by
// the worker the socket registered on (last registration wins, as before).
//
// Request: `{t:'q', id, from, sid, method, params, timeoutMs}` on `<prefix>-rpc#<nsp>#<uid>`.
// The holder emits `rpc-request` to the socket with the caller's timeout and publishes
// `{t:'r', id, kind, response?}` on the caller's channel: 'answered', 'no-socket' (not
// connected there) or 'timeout'. A worker that is gone has no subscriber: PUBLISH reaches nobody
// and the caller answers 'no-socket' at once, as the broadcast did when no socket acked.
// Answers travel as JSON (an ack is a JSON value; anything else is refused by the caller's check).
import { randomUUID } from 'node:crypto';
import type { Namespace } from 'socket.io';
import type { Logger } from '../ops/logger.js';
import type { RedisClient } from '../redis/connection.js';

/** Result of one directed call, as the CLI gateway reports it. */
export type DirectedRpcResult = { kind: 'answered'; response: unknown } | { kind: 'no-socket' } | { kind: 'timeout' };

/** The caller waits this much longer than the RPC timeout for the holder's own 'timeout' answer. */
const TIMEOUT_MARGIN_MS = 1_000;

interface RequestMessage {
  t: 'q';
  id: string;
  from: string;
  sid: string;
  method: string;
  params: string;
  timeoutMs: number;
}

interface ResponseMessage {
  t: 'r';
  id: string;
  kind: DirectedRpcResult['kind'];
  response?: unknown;
}

interface Waiting {
  resolve: (result: DirectedRpcResult) => void;
  timer: NodeJS.Timeout;
}

export class DirectedRpcChannel {
  private readonly waiting = new Map<string, Waiting>();
  private readonly onMessage = (channel: Buffer, message: Buffer): void => {
    if (channel.toString() !== this.channel) return;
    this.receive(message);
  };

  constructor(
    private readonly nsp: Namespace,
    private readonly pub: RedisClient,
    private readonly sub: RedisClient,
    private readonly prefix: string,
    /** This worker's id (the adapter's uid). */
    readonly uid: string,
    private readonly log: Logger,
  ) {
    sub.on('messageBuffer', this.onMessage);
    // The promise already has a handler (the adapter's guarded client); a failed subscribe only
    // means calls to sockets here fall back to 'no-socket' until ioredis re-subscribes.
    void sub.subscribe(this.channel);
  }

  private get channel(): string {
    return this.channelOf(this.uid);
  }

  private channelOf(uid: string): string {
    return `${this.prefix}-rpc#${this.nsp.name}#${uid}`;
  }

  /** The route value for a socket of this worker. */
  address(socketId: string): string {
    return `${socketId}@${this.uid}`;
  }

  /** Asks worker `uid` to call `rpc-request` on its socket `socketId`. */
  async request(
    uid: string,
    socketId: string,
    payload: { method: string; params: string },
    timeoutMs: number,
  ): Promise<DirectedRpcResult> {
    const id = randomUUID();
    const message: RequestMessage = { t: 'q', id, from: this.uid, sid: socketId, ...payload, timeoutMs };
    const answer = new Promise<DirectedRpcResult>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve({ kind: 'timeout' });
      }, timeoutMs + TIMEOUT_MARGIN_MS);
      this.waiting.set(id, { resolve, timer });
    });
    let receivers: number;
    try {
      receivers = await this.pub.publish(this.channelOf(uid), JSON.stringify(message));
    } catch (error) {
      this.log.debug({ err: error }, 'directed rpc: publish failed');
      receivers = 0;
    }
    if (receivers === 0) this.settle(id, { kind: 'no-socket' });
    return answer;
  }

  close(): void {
    this.sub.off('messageBuffer', this.onMessage);
    void this.sub.unsubscribe(this.channel);
    for (const [id] of this.waiting) this.settle(id, { kind: 'no-socket' });
  }

  private settle(id: string, result: DirectedRpcResult): void {
    const waiting = this.waiting.get(id);
    if (!waiting) return;
    this.waiting.delete(id);
    clearTimeout(waiting.timer);
    waiting.resolve(result);
  }

  private receive(raw: Buffer): void {
    let message: RequestMessage | ResponseMessage;
    try {
      message = JSON.parse(raw.toString()) as RequestMessage | ResponseMessage;
    } catch {
      return;
    }
    if (message.t === 'r') {
      const result: DirectedRpcResult =
        message.kind === 'answered' ? { kind: 'answered', response: message.response } : { kind: message.kind };
      this.settle(message.id, result);
      return;
    }
    if (message.t === 'q') void this.serve(message);
  }

  private async serve(request: RequestMessage): Promise<void> {
    const socket = this.nsp.sockets.get(request.sid);
    let reply: ResponseMessage;
    if (!socket) {
      reply = { t: 'r', id: request.id, kind: 'no-socket' };
    } else {
      try {
        const response: unknown = await socket
          .timeout(request.timeoutMs)
          .emitWithAck('rpc-request', { method: request.method, params: request.params });
        reply = { t: 'r', id: request.id, kind: 'answered', response };
      } catch {
        reply = { t: 'r', id: request.id, kind: 'timeout' };
      }
    }
    let text: string;
    try {
      text = JSON.stringify(reply);
    } catch {
      // Not JSON (e.g. a cyclic value): sent without a response, which the caller's answer check
      // refuses like any other bad answer.
      text = JSON.stringify({ t: 'r', id: request.id, kind: 'answered' });
    }
    try {
      await this.pub.publish(this.channelOf(request.from), text);
    } catch (error) {
      this.log.debug({ err: error }, 'directed rpc: reply publish failed');
    }
  }
}
