import { performance } from 'node:perf_hooks';

/**
 * Event-loop time a burst of work may take before it lets the loop poll for I/O again. An upload
 * that starts (every node sends its window of chunks at once) or a fast steady one hands the event
 * loop more chunks in one read than it checks in a few milliseconds; checked all at once, they
 * hold every other call (a health check among them) for the whole burst.
 */
export const SLICE_MS = 4;

/**
 * A clock of event-loop slices shared by the work that comes in bursts (the chunks of every upload
 * stream). `next()` lets work go on while the current slice has lasted under `sliceMs`; past that,
 * it returns a promise resolved by `setImmediate`, so the work resumes after the loop's next poll
 * for I/O (immediates queued while immediates run wait for the next turn). A slice starts with the
 * first `next()` after the last one ended.
 */
export class EventLoopSlices {
  private sliceStartedAt: number | undefined;

  constructor(
    private readonly sliceMs = SLICE_MS,
    /** Milliseconds on a monotonic clock (tests pass their own). */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** `undefined`: go on now; else a promise to await before the next piece of work. */
  next(): Promise<void> | undefined {
    const now = this.now();
    if (this.sliceStartedAt === undefined) {
      this.sliceStartedAt = now;
      setImmediate(() => {
        this.sliceStartedAt = undefined;
      });
      return undefined;
    }
    if (now - this.sliceStartedAt < this.sliceMs) return undefined;
    return new Promise((resolve) => setImmediate(resolve));
  }
}
