/**
 * What a start has opened so far, closed in reverse order: the one teardown of the aggregator,
 * used both when a later step of the start fails and when it shuts down.
 */
export class Teardown {
  private readonly steps: (() => void | Promise<void>)[] = [];

  /** Registers how to close what was just opened; returns it for chaining. */
  add<T>(opened: T, close: (opened: T) => void | Promise<void>): T {
    this.steps.push(() => close(opened));
    return opened;
  }

  /** Closes everything registered, last opened first (each once). */
  async run(): Promise<void> {
    for (let step = this.steps.pop(); step !== undefined; step = this.steps.pop()) await step();
  }
}
