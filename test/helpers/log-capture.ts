// A real pino logger whose lines are kept in memory, parsed, so a test can assert "exactly one
// JSON line" or "no error lines" about what the hub logged.
import { pino } from 'pino';
import type { Logger } from '../../src/ops/logger.js';

export interface CapturedLogs {
  log: Logger;
  /** Every line written so far, parsed (a line that is not JSON fails the parse, loudly). */
  lines(): Record<string, unknown>[];
  /** Lines at level error (50) or above. */
  errors(): Record<string, unknown>[];
  clear(): void;
}

export function captureLogs(level = 'info'): CapturedLogs {
  const raw: string[] = [];
  // pino writes each line with one synchronous write() call to a plain destination object.
  const log = pino(
    { level },
    { write: (chunk: string) => void raw.push(...chunk.split('\n').filter((line) => line.length > 0)) },
  );
  const lines = () => raw.map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    log,
    lines,
    errors: () => lines().filter((line) => typeof line.level === 'number' && line.level >= 50),
    clear: () => void raw.splice(0),
  };
}
