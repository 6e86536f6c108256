// Hands each caller of a batched engine call its own result: the engine answers a batch with one
// result per request, in request order (presence-batcher.ts, event-batcher.ts).

export interface BatchCaller<T> {
  resolve: (result: T) => void;
  reject: (error: unknown) => void;
}

/** Settles every caller from the batch's results; a short answer or a failure rejects them. */
export function settleBatch<T>(callers: readonly BatchCaller<T>[], results: Promise<T[]>, what: string): void {
  results.then(
    (values) => {
      callers.forEach((caller, i) => {
        const value = values[i];
        if (value) caller.resolve(value);
        else caller.reject(new Error(`${what} returned fewer results than requests`));
      });
    },
    (error: unknown) => {
      for (const caller of callers) caller.reject(error);
    },
  );
}
