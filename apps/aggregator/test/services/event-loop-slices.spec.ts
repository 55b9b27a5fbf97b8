import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { EventLoopSlices } from '../../src/services/event-loop-slices.ts';
import { pipelined } from '../../src/services/pipelined.ts';

/** A clock the test moves: each piece of work "takes" `step` ms, so slices end after a known count. */
function steppingClock(step: number): { now: () => number; work: () => void } {
  let ms = 0;
  return { now: () => ms, work: () => (ms += step) };
}

async function* burst(count: number): AsyncGenerator<number> {
  for (let i = 0; i < count; i += 1) yield i;
}

/**
 * Starts `count` requests that are all there at once (as the chunks of a burst read in one poll),
 * each taking 1 ms on the test's clock, and counts how many were started when a timer set before
 * the burst fired: the timer runs only when the event loop gets back to its timers phase.
 */
async function startedBeforeTimer(count: number, slices: EventLoopSlices | undefined, work: () => void): Promise<{ startedAtTimer: number; results: number[] }> {
  let started = 0;
  let startedAtTimer = -1;
  const timer = new Promise<void>((resolve) =>
    setTimeout(() => {
      startedAtTimer = started;
      resolve();
    }, 0),
  );
  // The timer is due (setTimeout 0 waits 1 ms) before the burst starts, in this same task.
  const dueAt = performance.now() + 2;
  while (performance.now() < dueAt) {
    // Busy: the event loop cannot run the timer until the burst lets it.
  }
  const start = (request: number): Promise<number> => {
    started += 1;
    work();
    return Promise.resolve(request * 2);
  };
  const results: number[] = [];
  for await (const result of pipelined(burst(count), start, count + 1, slices)) results.push(result);
  await timer;
  return { startedAtTimer, results };
}

describe('EventLoopSlices', () => {
  it('lets work go on for sliceMs, then defers it to a later turn of the event loop', async () => {
    const clock = steppingClock(1);
    const slices = new EventLoopSlices(3, clock.now);
    const goOn: boolean[] = [];
    for (let i = 0; i < 4; i += 1) {
      goOn.push(slices.next() === undefined);
      clock.work();
    }
    // Started at 0 ms: 0, 1 and 2 ms are inside a 3 ms slice; 3 ms is not.
    expect(goOn).toEqual([true, true, true, false]);
    // After the turn (the slice's immediate has run), a new slice starts.
    await new Promise((resolve) => setImmediate(resolve));
    expect(slices.next()).toBeUndefined();
  });

  it('a burst started through slices lets a due timer run after at most two slices; without, only after the whole burst', async () => {
    const count = 200;
    const clock = steppingClock(1);
    const sliced = await startedBeforeTimer(count, new EventLoopSlices(4, clock.now), clock.work);
    // A slice runs where the burst began and one more may run in the same turn's check phase
    // (each is 4 starts of 1 ms, plus the one that finds the slice spent): at most 10 starts.
    expect(sliced.startedAtTimer).toBeGreaterThan(0);
    expect(sliced.startedAtTimer).toBeLessThanOrEqual(10);
    // Order and completeness are those of the requests.
    expect(sliced.results).toEqual(Array.from({ length: count }, (_, i) => 2 * i));

    const unsliced = await startedBeforeTimer(count, undefined, () => undefined);
    expect(unsliced.startedAtTimer).toBe(count);
    expect(unsliced.results).toEqual(sliced.results);
  });
});
