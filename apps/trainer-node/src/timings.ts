import type { NodeTimings } from './results.ts';

/** Seconds each phase took so far (upload is 0 until it runs). */
export type PhaseSeconds = Partial<Record<keyof NodeTimings, number>>;

/** Seconds since `from` (a `performance.now()`), to the millisecond. */
export const secondsSince = (from: number): number => Math.round(performance.now() - from) / 1000;

/** Runs `phase` and records its duration under `name`. */
export async function timed<T>(seconds: PhaseSeconds, name: keyof NodeTimings, phase: () => T | Promise<T>): Promise<T> {
  const start = performance.now();
  const value = await phase();
  seconds[name] = secondsSince(start);
  return value;
}
