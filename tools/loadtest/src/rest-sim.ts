// REST traffic of web clients: a paced background mix (session list, message pages, and the
// RPC-backed `paths/exists` when runners exist) and the closed-loop RPC load of the rpc phase
// (`POST /api/machines/:id/paths/exists` → hub → runner `rpc-request` → ack → HTTP reply).
import { z } from 'zod';
import type { SimContext } from './context.js';
import { failureKind, requestJson, type HttpOutcome } from './http.js';

const PathsExistsReplySchema = z.object({ exists: z.record(z.string(), z.boolean()) });
const RPC_PATHS = ['/tmp/loadtest/a', '/tmp/loadtest/b'];

export interface RestTargets {
  jwt: string;
  sessionIds: () => readonly string[];
  machineIds: () => readonly string[];
}

function pick<T>(items: readonly T[], n: number): T | undefined {
  return items.length === 0 ? undefined : items[n % items.length];
}

/** One paths/exists round-trip; true when the runner's answer came back intact. */
async function pathsExists(
  ctx: SimContext,
  jwt: string,
  machineId: string,
): Promise<{ ok: boolean; outcome: HttpOutcome }> {
  const outcome = await requestJson('POST', `${ctx.url}/api/machines/${encodeURIComponent(machineId)}/paths/exists`, {
    bearer: jwt,
    body: { paths: RPC_PATHS },
    timeoutMs: ctx.options.rpcTimeoutMs,
  });
  const parsed = outcome.status === 200 ? PathsExistsReplySchema.safeParse(outcome.body) : null;
  return { ok: parsed?.success === true && RPC_PATHS.every((p) => parsed.data.exists[p] === true), outcome };
}

/**
 * Background REST at `ratePerSecond` until `deadline` (performance.now() ms) or stop. Requests
 * that would exceed `maxInFlight` are skipped and counted, so a slow hub cannot make the
 * generator pile up unbounded work.
 */
export async function runRestTraffic(
  ctx: SimContext,
  targets: RestTargets,
  ratePerSecond: number,
  until: () => boolean,
  maxInFlight = 64,
): Promise<void> {
  if (ratePerSecond <= 0) return;
  const tickMs = 50;
  let due = 0;
  let n = 0;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  const one = async (k: number): Promise<void> => {
    const kind = k % 3;
    const sid = pick(targets.sessionIds(), k);
    const mid = pick(targets.machineIds(), k);
    if (kind === 2 && mid !== undefined) {
      const { ok, outcome } = await pathsExists(ctx, targets.jwt, mid);
      if (ok) ctx.stats.restDone(outcome.ms);
      else ctx.stats.error(failureKind('rest-paths-exists', outcome));
      return;
    }
    const path =
      kind === 1 && sid !== undefined ? `/api/sessions/${encodeURIComponent(sid)}/messages?limit=50` : '/api/sessions';
    const outcome = await requestJson('GET', `${ctx.url}${path}`, {
      bearer: targets.jwt,
      timeoutMs: ctx.options.rpcTimeoutMs,
    });
    if (outcome.status === 200 && outcome.failure === undefined) ctx.stats.restDone(outcome.ms);
    else ctx.stats.error(failureKind(kind === 1 ? 'rest-messages' : 'rest-sessions', outcome));
  };
  while (!until() && !ctx.stopped()) {
    due += (ratePerSecond * tickMs) / 1000;
    while (due >= 1) {
      due -= 1;
      if (inFlight >= maxInFlight) {
        ctx.stats.error('rest-skipped-in-flight-cap');
        continue;
      }
      inFlight += 1;
      const p = one(n++).finally(() => {
        inFlight -= 1;
        pending.delete(p);
      });
      pending.add(p);
    }
    await new Promise((resolve) => setTimeout(resolve, tickMs));
  }
  await Promise.all(pending);
}

/** Closed loop: `concurrency` workers, each sending the next paths/exists as soon as one returns. */
export async function runRpcLoad(
  ctx: SimContext,
  jwt: string,
  machineIds: readonly string[],
  concurrency: number,
  until: () => boolean,
): Promise<void> {
  if (machineIds.length === 0) return;
  const worker = async (w: number): Promise<void> => {
    // Bounded by the phase deadline (until) and, as a backstop, a count no run can reach.
    for (let i = 0; i < 100_000_000 && !until() && !ctx.stopped(); i += 1) {
      const mid = machineIds[(w + i) % machineIds.length] as string;
      const { ok, outcome } = await pathsExists(ctx, jwt, mid);
      if (ok) ctx.stats.rpcDone(outcome.ms);
      else {
        ctx.stats.error(outcome.status === 200 ? 'rpc-bad-reply' : failureKind('rpc', outcome));
        // A failing target answers fast; pace the retries instead of spinning.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
}

/** Probes until one RPC succeeds (registration is asynchronous on some hubs); bounded. */
export async function waitForRpcReady(
  ctx: SimContext,
  jwt: string,
  machineId: string,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 1_000 && Date.now() < deadline && !ctx.stopped(); i += 1) {
    const { ok } = await pathsExists(ctx, jwt, machineId);
    if (ok) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}
