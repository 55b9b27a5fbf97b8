import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import fixture from './fixtures/aggregation.json' with { type: 'json' };
import { MergeAccumulator } from '../src/merge-accumulator.ts';
import { matrix } from '../src/matrix.ts';
import { expectAllClose, f32, FLOAT32_TOLERANCE, randomMatrix, rlsaError, snapshot } from './helpers.ts';

/** Arrival-order independence is promised to 1e-6 (float64 sums, float32 result). */
const ORDER_TOLERANCE = 1e-6;

describe('MergeAccumulator', () => {
  it('matches the NumPy per-sample weighted mean (scripts/fixtures/core_fixtures.py)', () => {
    const acc = new MergeAccumulator(fixture.width);
    fixture.spaces.forEach((s, k) => acc.add(s.sampleIds, f32(s.values), fixture.weights[k]));
    expect(acc.sampleCount).toBe(fixture.sampleIds.length);
    const r = acc.result();
    expect(Array.from(r.sampleIds)).toEqual(fixture.sampleIds);
    expect(Array.from(r.counts)).toEqual(fixture.counts);
    expect(r.values.data).toBeInstanceOf(Float32Array);
    expectAllClose(r.values.data, fixture.weightedMean.flat(), FLOAT32_TOLERANCE);
  });

  it('gives the same result whatever the arrival order and chunking of contributions', () => {
    const contribution = fc.record({
      ids: fc.uniqueArray(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 40 }),
      seed: fc.integer(),
      weight: fc.double({ min: 0.01, max: 100, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(contribution, { minLength: 1, maxLength: 8 }), fc.integer(), (parts, orderSeed) => {
        const width = 3;
        const items = parts.map((p) => ({ ids: p.ids, values: randomMatrix(p.ids.length, width, p.seed, true), weight: p.weight }));
        const a = new MergeAccumulator(width);
        for (const it of items) a.add(it.ids, it.values, it.weight);
        // Reverse-rotated order, each contribution split into single rows.
        const b = new MergeAccumulator(width);
        const shift = Math.abs(orderSeed) % items.length;
        const reordered = [...items.slice(shift), ...items.slice(0, shift)].reverse();
        for (const it of reordered) {
          for (let r = it.ids.length - 1; r >= 0; r--) b.add([it.ids[r]!], matrix(1, width, it.values.data.slice(r * width, (r + 1) * width)), it.weight);
        }
        const ra = a.result();
        const rb = b.result();
        expect(rb.sampleIds).toEqual(ra.sampleIds);
        expect(rb.counts).toEqual(ra.counts);
        expectAllClose(rb.values.data, ra.values.data, ORDER_TOLERANCE);
      }),
      { numRuns: 60 },
    );
  });

  it('grows past its initial capacity', () => {
    const acc = new MergeAccumulator(2);
    const ids = Array.from({ length: 3000 }, (_, i) => 3000 - i);
    const values = matrix(3000, 2, Float32Array.from({ length: 6000 }, (_, t) => t));
    acc.add(ids, values);
    acc.add(ids, values, 3);
    const r = acc.result();
    expect(r.sampleIds[0]).toBe(1);
    expect(r.counts.every((c) => c === 2)).toBe(true);
    // Sample 1 is row 2999 of values: (5998, 5999).
    expect(Array.from(r.values.data.subarray(0, 2))).toEqual([5998, 5999]);
  });

  it('does not mutate the added values', () => {
    const v = randomMatrix(4, 2, 5, true);
    const v0 = snapshot(v);
    const ids = new Uint32Array([3, 1, 2, 0]);
    new MergeAccumulator(2).add(ids, v, 2);
    expect(v).toEqual(v0);
    expect(Array.from(ids)).toEqual([3, 1, 2, 0]);
  });

  it('rejects bad contributions without changing its state', () => {
    const acc = new MergeAccumulator(2);
    acc.add([1], matrix(1, 2, [1, 2]));
    expect(rlsaError(() => acc.add([1, 1], matrix(2, 2, [1, 2, 3, 4]))).code).toBe('invalid_argument');
    expect(rlsaError(() => acc.add([5], matrix(1, 3, [1, 2, 3]))).code).toBe('shape_mismatch');
    expect(rlsaError(() => acc.add([5, 6], matrix(1, 2, [1, 2]))).code).toBe('shape_mismatch');
    expect(rlsaError(() => acc.add([5], matrix(1, 2, [1, 2]), 0)).code).toBe('invalid_argument');
    expect(rlsaError(() => acc.add([5], matrix(1, 2, [1, NaN]))).code).toBe('non_finite');
    expect(rlsaError(() => acc.add([-1], matrix(1, 2, [1, 2]))).code).toBe('invalid_argument');
    expect(acc.sampleCount).toBe(1);
    expect(Array.from(acc.result().values.data)).toEqual([1, 2]);
  });

  it('refuses to produce a result before the first row', () => {
    expect(rlsaError(() => new MergeAccumulator(3).result()).code).toBe('failed_precondition');
    expect(rlsaError(() => new MergeAccumulator(0)).code).toBe('invalid_argument');
  });
});
