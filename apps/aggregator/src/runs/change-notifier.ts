/**
 * Tells the watchers of a run that it changed, coalesced: listeners run at most once per
 * event-loop turn however many changes it brought, and a watcher that is busy sending sees
 * one change for all that happened meanwhile.
 */
export class ChangeNotifier {
  private readonly listeners = new Set<() => void>();
  private scheduled = false;

  notify(): void {
    if (this.scheduled || this.listeners.size === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      for (const listener of [...this.listeners]) listener();
    });
  }

  /** Calls `listener` after changes; returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Subscribes now (a change from this moment on is seen) and returns the watch: one item per
   * pull that finds the run changed since the previous pull (changes while the consumer was busy
   * count once); it ends when `signal` aborts or `close` is called.
   */
  watch(signal: AbortSignal): ChangeWatch {
    return new ChangeWatch(this, signal);
  }
}

/** A subscription to a run's changes as an async iterable (see `ChangeNotifier.watch`). */
export class ChangeWatch implements AsyncIterable<void> {
  private dirty = false;
  private closed = false;
  private wake: (() => void) | undefined;
  private readonly unsubscribe: () => void;
  private readonly onAbort = (): void => this.close();

  constructor(
    notifier: ChangeNotifier,
    private readonly signal: AbortSignal,
  ) {
    this.unsubscribe = notifier.subscribe(() => {
      this.dirty = true;
      this.wake?.();
    });
    signal.addEventListener('abort', this.onAbort);
    if (signal.aborted) this.close();
  }

  /** Ends the watch: unsubscribes, and a pending pull ends the iteration. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.signal.removeEventListener('abort', this.onAbort);
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<void> {
    try {
      while (!this.closed) {
        if (!this.dirty) {
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
          this.wake = undefined;
          continue;
        }
        this.dirty = false;
        yield;
      }
    } finally {
      this.close();
    }
  }
}
