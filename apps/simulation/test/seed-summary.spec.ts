import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeOverSeeds, metricOverSeeds, seedInterval } from '../src/seed-summary.ts';

interface Interval {
  mean: number;
  sd: number;
  low: number;
  high: number;
}
const fixtures = JSON.parse(readFileSync(new URL('./fixtures/numpy-fixtures.json', import.meta.url), 'utf8')) as {
  seeds: { values: Record<string, number[]>; intervals: Record<string, Interval>; gaps: Record<string, Interval>; t_975: Record<string, number> };
};
const { values, intervals, gaps, t_975 } = fixtures.seeds;

/** Float64 sums of five values and stdlib's t quantile against SciPy's: agreement to ~1e-15 relative. */
const TOLERANCE = 1e-12;

const perSeed = values['merged']!.map((_, k) => Object.fromEntries(Object.entries(values).map(([name, v]) => [name, v[k]!])));

describe('seedInterval', () => {
  it("matches NumPy's mean and sd and SciPy's 95 % t interval", () => {
    for (const [name, v] of Object.entries(values)) {
      const got = seedInterval(v);
      const want = intervals[name]!;
      expect(got.n).toBe(5);
      for (const key of ['mean', 'sd', 'low', 'high'] as const) expect(got[key]).toBeCloseTo(want[key], 12);
    }
  });

  it("uses SciPy's t quantile for each degree of freedom", () => {
    for (const [dof, t] of Object.entries(t_975)) {
      // Two values ±1 around 0 for dof 1; in general n = dof + 1 values with sd s give half width t·s/√n.
      const n = Number(dof) + 1;
      const v = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : -1));
      const got = seedInterval(v);
      const half = (got.high! - got.low!) / 2;
      expect(Math.abs(half - (t * got.sd!) / Math.sqrt(n))).toBeLessThan(TOLERANCE);
    }
  });

  it('has no interval for one seed and refuses none', () => {
    expect(seedInterval([0.3])).toEqual({ n: 1, mean: 0.3, sd: null, low: null, high: null });
    expect(() => seedInterval([])).toThrow(/no values/);
  });
});

describe('metricOverSeeds', () => {
  // The paper's shared-classes VanillaCNN accuracies (exp_2): abs > rel > naive > merged.
  const paper = { end_to_end_absolute: 0.4453, end_to_end: 0.4246, naive: 0.4064, merged: 0.4034 };

  it('orders the spaces by mean and gives every pair the paper orders its paired gap interval', () => {
    const summary = metricOverSeeds('probe_accuracy', perSeed, paper);
    expect(summary.paper_order).toEqual(['end_to_end_absolute', 'end_to_end', 'naive', 'merged']);
    expect(summary.order_of_means).toEqual(['end_to_end_absolute', 'naive', 'end_to_end', 'merged']);
    expect(summary.pairs).toHaveLength(6);
    for (const pair of summary.pairs) {
      const want = gaps[`${pair.higher}-${pair.lower}`]!;
      for (const key of ['mean', 'sd', 'low', 'high'] as const) expect(pair.gap[key]).toBeCloseTo(want[key], 12);
      // The verdict follows the interval's sign.
      const expected = want.low > 0 ? 'paper' : want.high < 0 ? 'opposite' : 'unresolved';
      expect(pair.verdict).toBe(expected);
    }
    const verdictOf = (h: string, l: string) => summary.pairs.find((p) => p.higher === h && p.lower === l)!.verdict;
    expect(verdictOf('end_to_end_absolute', 'merged')).toBe('paper');
    expect(verdictOf('naive', 'merged')).toBe('unresolved');
    expect(verdictOf('end_to_end', 'naive')).toBe('unresolved');
    // Per seed (abs, rel, naive, merged): seeds 1, 2, 4 have naive above rel, seed 3 merged above naive;
    // only seed 5 (.257 > .230 > .226 > .219) has the paper's whole order.
    expect(summary.seeds_in_paper_order).toBe(1);
    expect(metricOverSeeds('probe_accuracy', perSeed, { end_to_end_absolute: 2, merged: 1 }).seeds_in_paper_order).toBe(5);
  });

  it('finds the reverse order established when every seed reverses it', () => {
    const summary = metricOverSeeds('separability', [{ a: 1, b: 2 }, { a: 1.1, b: 2.05 }, { a: 0.9, b: 2.2 }], { a: 5, b: 1 });
    expect(summary.pairs).toEqual([expect.objectContaining({ higher: 'a', lower: 'b', verdict: 'opposite' })]);
    expect(describeOverSeeds(summary)[0]).toMatch(/differs from the paper's order/);
  });

  it('leaves out a space missing in any seed, so every mean is over the same seeds', () => {
    const summary = metricOverSeeds('probe_accuracy', [{ merged: 0.5, task_embedding: 0.4 }, { merged: 0.6, task_embedding: null }], {});
    expect(Object.keys(summary.spaces)).toEqual(['merged']);
    expect(summary.spaces['merged']!.mean).toBeCloseTo(0.55, 15);
    expect(summary.pairs).toEqual([]);
    expect(summary.seeds_in_paper_order).toBeNull();
    expect(describeOverSeeds(summary)).toEqual(['Mean probe accuracy over 2 seeds: merged (RLSA) (no paper numbers to compare).']);
  });

  it("says the mean order matches when it is the paper's, and states each pair's interval", () => {
    const summary = metricOverSeeds('probe_accuracy', perSeed, { end_to_end_absolute: 4, naive: 3, end_to_end: 2, merged: 1 });
    const lines = describeOverSeeds(summary);
    expect(lines[0]).toMatch(/^Mean probe accuracy over 5 seeds is in the paper's order: end-to-end \(absolute\) > naive \(jumble\) > end-to-end \(relative\) > merged \(RLSA\)\.$/);
    // Order abs > naive > rel > merged: seeds 1, 2, 4 hold it; seeds 3 and 5 have rel above naive.
    expect(lines[1]).toBe("3 of 5 seeds have every space in the paper's order on their own.");
    expect(lines).toContain(`naive (jumble) − merged (RLSA): 0.013 [-0.003, 0.030], not ordered by the seeds (the interval holds 0).`);
  });
});
