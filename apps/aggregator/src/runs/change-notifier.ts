/**
 * Tells the watchers of a run that it changed, coalesced: listeners run at most once per
 * event-loop turn however many changes it brought, and a watcher that is busy sending sees
 * one change for all that happened meanwhile.
 */
export class ChangeNotifier {
  private readonly listeners = new Set<() => void>();
  private readonly watches = new Set<ChangeWatch>();
  private scheduled = false;
  private ended = false;

  notify(): void {
    if (this.ended || this.scheduled || this.listeners.size === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      for (const listener of [...this.listeners]) listener();
    });
  }

  /** Calls `listener` after changes; returns the unsubscribe. Nothing is called once the notifier ended. */
  subscribe(listener: () => void): () => void {
    if (!this.ended) this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The run is gone: every watch ends (a pending pull ends its iteration), listeners are dropped, later watches end at once. */
  end(): void {
    this.ended = true;
    for (const watch of [...this.watches]) watch.close();
    this.listeners.clear();
  }

  /**
   * Subscribes now (a change from this moment on is seen) and returns the watch: one item per
   * pull that finds the run changed since the previous pull (changes while the consumer was busy
   * count once); it ends when `signal` aborts or `close` is called.
   */
  watch(signal: AbortSignal): ChangeWatch {
    const watch = new ChangeWatch(this, signal, (closed) => this.watches.delete(closed));
    if (this.ended) watch.close();
    else if (!watch.isClosed) this.watches.add(watch);
    return watch;
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
    private readonly onClose: (watch: ChangeWatch) => void = () => {},
  ) {
    this.unsubscribe = notifier.subscribe(() => {
      this.dirty = true;
      this.wake?.();
    });
    signal.addEventListener('abort', this.onAbort);
    if (signal.aborted) this.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Ends the watch: unsubscribes, and a pending pull ends the iteration. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.onClose(this);
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
