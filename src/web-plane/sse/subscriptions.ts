// Opening and closing SSE subscriptions: the subscribe sequence (docs/design.md#sse-event-log-and-fan-out)
// and the bookkeeping around it (fan-out, directory, heartbeat, metrics).
//
// Ordering guarantee. The engine delivers each namespace's events to this process in offset
// order. A new connection is added to the fan-out (holding live events back) BEFORE the log is
// read, so every event appended after that moment reaches it live; every event appended before
// the read is in the read result. The handshake writes `connection-changed`, then the replay
// (offsets up to the log head seen by the read), then the held-back live events whose offset
// is above what the replay covered, and only when nothing is held back does it switch to direct
// writes. Events in both sets (appended between registration and the read) are written once,
// and since each step writes higher offsets than the previous one, nothing is reordered.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { EventReadResult } from '../../services/model.js';
import type { HubMetrics } from '../../ops/metrics.js';
import type { Logger } from '../../ops/logger.js';
import type { Visibility } from '../../protocol/sse.js';
import type { EventFeed } from '../../services/events.js';
import { SseConnection, type CloseReason } from './connection.js';
import { decodeStoredEvent } from './decoded-event.js';
import { shouldSend, type DeliveryFilter } from './delivery-filter.js';
import { formatEventId, namespaceTag } from './event-ids.js';
import { connectionChangedFrame, heartbeatFrame, loggedFrame } from './frames.js';
import { Heartbeat } from './heartbeat.js';
import type { LocalFanout } from './local-fanout.js';
import { readOffsetFor, resolveResume } from './resume.js';
import type { SubscriptionDirectory } from './visibility.js';

export interface OpenRequest {
  res: ServerResponse;
  filter: DeliveryFilter;
  visibility: Visibility;
  cursor: string | undefined;
  gzip: boolean;
}

export interface SubscriptionManagerDeps {
  events: Pick<EventFeed, 'read'>;
  fanout: LocalFanout;
  directory: SubscriptionDirectory;
  metrics: HubMetrics;
  log: Logger;
  clock: () => number;
  heartbeatMs: number;
  maxBufferedBytes: number;
}

export class SubscriptionManager {
  private readonly heartbeat: Heartbeat;

  constructor(private readonly deps: SubscriptionManagerDeps) {
    this.heartbeat = new Heartbeat(deps.heartbeatMs, () => this.beat());
  }

  /**
   * Runs the subscribe sequence. Throws (nothing written yet, so the caller can answer with a
   * JSON error) when the log cannot be read; after the headers are out, failures close the stream.
   */
  async open(request: OpenRequest): Promise<void> {
    const { events, fanout, directory, metrics, log } = this.deps;
    const subscriptionId = randomUUID();
    const namespace = request.filter.namespace;
    const connection = new SseConnection(request.res, {
      subscriptionId,
      filter: request.filter,
      gzip: request.gzip,
      maxBufferedBytes: this.deps.maxBufferedBytes,
      onFrame: (type) => metrics.eventsOut.inc({ type }),
      onClosed: (closed, reason) => this.onClosed(closed, reason),
    });

    // 1. Into the fan-out first, holding live events back (see the ordering note above).
    fanout.add(connection);
    metrics.sseSubscribers.inc();
    this.heartbeat.ensureRunning();

    let read: EventReadResult;
    try {
      // Registered before `connection-changed` hands the id out, so a visibility POST that
      // follows it immediately finds the subscription.
      await directory.register({ subscriptionId, namespace, visibility: request.visibility });
      // 2. Then read the log: the verdict needs its epoch and window, the replay its events.
      read = await events.read(namespace, readOffsetFor(request.cursor));
    } catch (error) {
      connection.close('error');
      throw error;
    }
    if (connection.closed) return; // the client left while we were reading

    const plan = resolveResume(request.cursor, namespace, read);
    metrics.sseResume.inc({ verdict: plan.verdict });
    connection.open();

    try {
      // 3. connection-changed, 4. replay, 5. held-back live events, then direct writes.
      await connection.writePaced(connectionChangedFrame(subscriptionId, plan.verdict));
      let covered = 0;
      if (plan.verdict === 'ok') {
        const tag = namespaceTag(read.epoch, namespace);
        for (const stored of read.events) {
          if (connection.closed) return;
          if (stored.offset <= plan.cursorOffset) continue;
          const event = decodeStoredEvent(stored);
          if (!event || !shouldSend(request.filter, event.fields)) continue;
          await connection.writePaced(
            loggedFrame(event.fields.type, event.line, formatEventId(read.epoch, stored.offset, tag)),
          );
        }
        // The read covered the whole log up to its head, including events the filter skipped.
        covered = read.nextOffset - 1;
      }
      // With `gap` nothing was replayed, so every event held back since registration is new.
      await connection.goLive(read.epoch, covered);
    } catch (error) {
      log.warn({ err: error, subscriptionId }, 'sse handshake failed');
      connection.close('error');
    }
  }

  /** Ends every stream (shutdown) and stops the heartbeat. */
  closeAll(): void {
    this.heartbeat.stop();
    for (const [, connections] of [...this.deps.fanout.namespaces()]) {
      for (const connection of [...connections]) connection.close('shutdown');
    }
  }

  private onClosed(connection: SseConnection, reason: CloseReason): void {
    const { fanout, directory, metrics, log } = this.deps;
    fanout.remove(connection);
    metrics.sseSubscribers.dec();
    if (reason === 'slow') {
      metrics.sseDropped.inc();
      log.info(
        { subscriptionId: connection.subscriptionId, namespace: connection.filter.namespace },
        'sse slow consumer closed',
      );
    }
    if (fanout.size === 0) this.heartbeat.stop();
    directory.unregister(connection.subscriptionId).catch((error: unknown) => {
      log.warn({ err: error, subscriptionId: connection.subscriptionId }, 'sse subscription unregister failed');
    });
  }

  /** One heartbeat frame per namespace per tick, shared by that namespace's connections. */
  private beat(): void {
    const now = this.deps.clock();
    for (const [namespace, connections] of [...this.deps.fanout.namespaces()]) {
      const frame = heartbeatFrame(namespace, now);
      for (const connection of [...connections]) connection.sendUnlogged(frame);
    }
  }
}
