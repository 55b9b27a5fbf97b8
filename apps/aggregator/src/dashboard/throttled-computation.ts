/** A value computed from some state, with the key of the state it was computed from. */
export interface Computed<T> {
  readonly key: string;
  readonly value: T;
  readonly startedAtMs: number;
}

/**
 * A value derived from changing state (a run's CKA table, its PCA), recomputed only when the
 * state's key changed and at most once per `intervalMs`, one computation at a time. A caller gets
 * the cached value while the key is unchanged; otherwise it waits for a computation that started
 * after it asked (or whose key is still current), so that what it gets is never older than its
 * request, however often it asks.
 */
export class ThrottledComputation<T> {
  private cached: Computed<T> | undefined;
  private running: Promise<Computed<T>> | undefined;
  private lastStartMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly source: { key: () => string; compute: () => T | Promise<T> },
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<Computed<T>> {
    const askedAtMs = this.now();
    for (;;) {
      if (this.cached !== undefined && this.cached.key === this.source.key()) return this.cached;
      const result = await (this.running ?? this.start());
      if (result.startedAtMs >= askedAtMs || result.key === this.source.key()) return result;
    }
  }

  /** Starts the one computation; it is forgotten once settled (before its waiters resume). */
  private start(): Promise<Computed<T>> {
    const running = this.run();
    this.running = running;
    const forget = (): void => {
      if (this.running === running) this.running = undefined;
    };
    running.then(forget, forget);
    return running;
  }

  private async run(): Promise<Computed<T>> {
    const wait = this.lastStartMs + this.intervalMs - this.now();
    if (wait > 0) await new Promise<void>((resolve) => setTimeout(resolve, wait).unref());
    const startedAtMs = this.now();
    this.lastStartMs = startedAtMs;
    const key = this.source.key();
    const value = await this.source.compute();
    this.cached = { key, value, startedAtMs };
    return this.cached;
  }
}
