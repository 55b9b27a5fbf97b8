import { performance } from 'node:perf_hooks';

/** Wall-clock stopwatch for the phases of a run, in seconds (to the hundredth). */
export class Stopwatch {
  private readonly start = performance.now();
  private last = this.start;
  readonly seconds: Record<string, number> = {};

  /** Records the time since the previous mark as `phase`. */
  mark(phase: string): void {
    const now = performance.now();
    this.seconds[phase] = Math.round((now - this.last) / 10) / 100;
    this.last = now;
  }

  /** Seconds since the start. */
  elapsed(): number {
    return Math.round((performance.now() - this.start) / 10) / 100;
  }

  /** Records the time since the start as `total`. */
  total(): void {
    this.seconds['total'] = this.elapsed();
  }
}
