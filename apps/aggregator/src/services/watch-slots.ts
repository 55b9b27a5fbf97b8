import { AggregatorError } from '../errors.ts';

/** Least time between two statuses sent to one watcher: the changes in between are sent as one. */
export const WATCH_INTERVAL_MS = 250;

/**
 * Open WatchRun calls, all runs, bounded: each watcher costs a status per change sent (at most one
 * per WATCH_INTERVAL_MS) and a stream. RESOURCE_EXHAUSTED over the bound.
 */
export class WatchSlots {
  private open = 0;

  constructor(readonly max: number) {}

  /** Takes a slot; returns its release (idempotent). */
  take(): () => void {
    if (this.open >= this.max) throw new AggregatorError('resource_exhausted', `${this.open} WatchRun calls are open, the most the aggregator serves; retry later`);
    this.open += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open -= 1;
    };
  }

  get watchers(): number {
    return this.open;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (the watch then ends as it would). */
export function pauseBetweenStatuses(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
