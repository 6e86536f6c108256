// Seeded, bounded fast-check runs for the fuzz suite.
//
// Every property runs with a seed: FUZZ_SEED when set (reproduce a failure), else one random seed
// per test file, printed with the file's case count and time, and printed again with the failing
// property's name when one fails. FUZZ_SCALE multiplies every run count (default 1; e.g. 0.1 for
// a quick look, 10 for a long soak).
import fc from 'fast-check';

const envSeed = process.env.FUZZ_SEED;
export const FUZZ_SEED =
  envSeed !== undefined && envSeed !== '' ? Number(envSeed) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
const SCALE = Number(process.env.FUZZ_SCALE ?? '1') || 1;

export function scaled(runs: number): number {
  return Math.max(1, Math.round(runs * SCALE));
}

/** Cases run by this file (every property run counts one case), reported by reportFuzzCounts. */
const counts = new Map<string, number>();
const startedAt = Date.now();

export function countCases(label: string, cases: number): void {
  counts.set(label, (counts.get(label) ?? 0) + cases);
}

export function totalCases(): number {
  let total = 0;
  for (const n of counts.values()) total += n;
  return total;
}

/** One line per file, e.g. `[fuzz] http-routes: 6000 cases over 49 properties in 21.3 s (FUZZ_SEED=123 reproduces)`. */
export function reportFuzzCounts(file: string): void {
  console.log(
    `[fuzz] ${file}: ${totalCases()} cases over ${counts.size} properties in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (FUZZ_SEED=${FUZZ_SEED} reproduces)`,
  );
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text;
}

/** A readable failure: seed, the failing case (clipped: cases can hold 100,000-deep JSON) and the assertion. */
function failureOf(label: string, details: fc.RunDetails<unknown>): Error {
  const example = details.counterexample === null ? '(none)' : clip(fc.stringify(details.counterexample), 1_500);
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  return new Error(
    `[fuzz] property '${label}' failed after ${details.numRuns} cases with FUZZ_SEED=${FUZZ_SEED} (rerun with that env to reproduce; fast-check path ${details.counterexamplePath ?? '?'})\n` +
      `case: ${example}\n${clip(cause, 3_000)}`,
  );
}

/** Synchronous property, `runs` cases (scaled), seeded. */
export function checkProperty<T>(
  label: string,
  arbitrary: fc.Arbitrary<T>,
  // biome-ignore lint/suspicious/noConfusingVoidType: fast-check predicates return a boolean or nothing (void), as fc.property types them
  predicate: (value: T) => boolean | void,
  runs: number,
): void {
  const numRuns = scaled(runs);
  const details = fc.check(fc.property(arbitrary, predicate), { seed: FUZZ_SEED, numRuns, endOnFailure: true });
  if (details.failed) throw failureOf(label, details as fc.RunDetails<unknown>);
  countCases(label, numRuns);
}

/**
 * Asynchronous property against a live hub, `runs` cases (scaled), seeded. No shrinking beyond
 * the first failure (each case is a real round trip; the failing value is printed as found).
 */
export async function checkAsyncProperty<T>(
  label: string,
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<void>,
  runs: number,
): Promise<void> {
  const numRuns = scaled(runs);
  const started = Date.now();
  const details = await fc.check(fc.asyncProperty(arbitrary, predicate), {
    seed: FUZZ_SEED,
    numRuns,
    endOnFailure: true,
  });
  if (details.failed) throw failureOf(label, details as fc.RunDetails<unknown>);
  if (process.env.FUZZ_VERBOSE) console.log(`[fuzz] ${label}: ${numRuns} in ${Date.now() - started} ms`);
  countCases(label, numRuns);
}
