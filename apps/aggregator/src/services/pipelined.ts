import type { EventLoopSlices } from './event-loop-slices.ts';

type Settled<T> = { value: T } | { error: unknown };

/**
 * Starts `start(request)` for each request as it is read and yields the results in request order,
 * so that request n+1 is checked while request n's work (a commit) is in flight. Backpressure both
 * ways: at most `maxInFlight` requests are started and not yet passed on (the consumer pulled past
 * their result), so a consumer that stops pulling (its output is not flushed) stops the reading.
 * A request whose start fails (synchronously or not) ends the iteration with its error after the
 * results before it; no request after a failed one is read. An error of the requests themselves
 * ends it the same way. With `slices`, each start first waits for its turn in the event loop's
 * slices (see EventLoopSlices), so a burst of requests is started a few milliseconds at a time.
 */
export async function* pipelined<Req, Res>(requests: AsyncIterable<Req>, start: (request: Req) => Promise<Res>, maxInFlight: number, slices?: EventLoopSlices): AsyncGenerator<Res> {
  const queue: Promise<Settled<Res>>[] = [];
  const state = { outstanding: 0, readerDone: false, stopped: false };
  let wakeConsumer: (() => void) | undefined;
  let wakeReader: (() => void) | undefined;
  const push = (entry: Promise<Settled<Res>>): void => {
    queue.push(entry);
    state.outstanding += 1;
    wakeConsumer?.();
  };
  const read = async (): Promise<void> => {
    try {
      for await (const request of requests) {
        const turn = slices?.next();
        if (turn !== undefined) await turn;
        if (state.stopped) return;
        let entry: Promise<Settled<Res>>;
        try {
          entry = start(request).then((value) => ({ value }), (error: unknown) => ({ error }));
        } catch (error: unknown) {
          push(Promise.resolve({ error }));
          return;
        }
        push(entry);
        while (state.outstanding >= maxInFlight && !state.stopped) await new Promise<void>((resolve) => (wakeReader = resolve));
        if (state.stopped) return;
      }
    } catch (error: unknown) {
      push(Promise.resolve({ error }));
    } finally {
      state.readerDone = true;
      wakeConsumer?.();
    }
  };
  void read();
  try {
    for (;;) {
      const entry = queue.shift();
      if (entry === undefined) {
        if (state.readerDone) return;
        await new Promise<void>((resolve) => (wakeConsumer = resolve));
        wakeConsumer = undefined;
        continue;
      }
      const settled = await entry;
      if ('error' in settled) throw settled.error;
      yield settled.value;
      // Pulled again: the result before was passed on.
      state.outstanding -= 1;
      wakeReader?.();
    }
  } finally {
    // The consumer left (done, failed, or stopped pulling for good): the reader stops too.
    state.stopped = true;
    wakeReader?.();
  }
}
