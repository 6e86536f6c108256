// Alive timestamps come from client clocks; the hub compares against its own.
const MAX_ALIVE_AGE_MS = 10 * 60 * 1000;

/** Future times become now; times older than 10 minutes or non-finite are ignored (null). */
export function clampAliveTime(time: number, now: number): number | null {
  if (!Number.isFinite(time)) return null;
  if (time > now) return now;
  if (now - time > MAX_ALIVE_AGE_MS) return null;
  return time;
}
