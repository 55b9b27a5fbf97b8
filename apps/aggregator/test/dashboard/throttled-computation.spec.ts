import { describe, expect, it } from 'vitest';
import { ThrottledComputation } from '../../src/dashboard/throttled-computation.ts';

/** A state whose key the test changes, and a computation that counts its runs and records when each started. */
function source(computeMs = 0) {
  const state = { key: 'v1', runs: 0, starts: [] as number[] };
  return {
    state,
    source: {
      key: () => state.key,
      compute: async () => {
        state.runs += 1;
        state.starts.push(Date.now());
        const key = state.key;
        await new Promise((resolve) => setTimeout(resolve, computeMs));
        return `value of ${key}`;
      },
    },
  };
}

describe('ThrottledComputation', () => {
  it('computes once for any number of callers while the key is unchanged', async () => {
    const { state, source: s } = source(20);
    const view = new ThrottledComputation(s, 0);
    const results = await Promise.all(Array.from({ length: 10 }, () => view.get()));
    expect(state.runs).toBe(1);
    expect(new Set(results.map((r) => r.value))).toEqual(new Set(['value of v1']));
    expect((await view.get()).value).toBe('value of v1');
    expect(state.runs).toBe(1);
  });

  it('recomputes when the key changed, no sooner than the interval after the last start', async () => {
    const { state, source: s } = source();
    const view = new ThrottledComputation(s, 150);
    await view.get();
    state.key = 'v2';
    const second = await view.get();
    expect(second).toMatchObject({ key: 'v2', value: 'value of v2' });
    expect(state.runs).toBe(2);
    expect((state.starts[1] as number) - (state.starts[0] as number)).toBeGreaterThanOrEqual(145);
  });

  it('never answers a caller with a value computed before it asked, unless that value is still current', async () => {
    const { state, source: s } = source(60);
    const view = new ThrottledComputation(s, 0);
    const early = view.get();
    await new Promise((resolve) => setTimeout(resolve, 10));
    state.key = 'v2'; // changes while v1 is being computed
    const late = view.get();
    expect((await early).value).toBe('value of v1');
    expect((await late).value).toBe('value of v2');
    expect(state.runs).toBe(2);
  });

  it('passes a failed computation to its callers and tries again on the next call', async () => {
    let fail = true;
    const view = new ThrottledComputation({ key: () => 'k', compute: () => (fail ? Promise.reject(new Error('not yet')) : 'done') }, 0);
    await expect(Promise.all([view.get(), view.get()])).rejects.toThrow('not yet');
    fail = false;
    expect((await view.get()).value).toBe('done');
  });

  it('recomputes after a synchronous computation as well (no stale in-flight state)', async () => {
    let key = 'a';
    let runs = 0;
    const view = new ThrottledComputation({ key: () => key, compute: () => ((runs += 1), key) }, 0);
    expect((await view.get()).value).toBe('a');
    key = 'b';
    expect((await view.get()).value).toBe('b');
    expect(runs).toBe(2);
  });
});
