/** Injectable time source so liveness can be tested without waiting. */
export type Clock = () => number;
export const systemClock: Clock = () => Date.now();
