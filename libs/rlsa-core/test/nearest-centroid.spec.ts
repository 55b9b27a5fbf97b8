import { describe, expect, it } from 'vitest';
import fixture from './fixtures/metrics.json' with { type: 'json' };
import { matrix } from '../src/matrix.ts';
import { nearestCentroidAccuracy } from '../src/nearest-centroid.ts';
import { f32, rlsaError } from './helpers.ts';

describe('nearestCentroidAccuracy', () => {
  it('matches NumPy (scripts/fixtures/core_fixtures.py)', () => {
    const acc = nearestCentroidAccuracy(f32(fixture.x), fixture.labels, f32(fixture.test), fixture.labels);
    expect(acc).toBe(fixture.nearestCentroidAccuracy);
  });

  it('counts a test class absent from train as wrong, ties go to the lower class', () => {
    const train = matrix(4, 1, [0, 0, 10, 10]);
    // 5 is equidistant from both centroids → class 0; 9 → class 1; 1 is labelled 2 (unknown) → wrong.
    expect(nearestCentroidAccuracy(train, [0, 0, 1, 1], matrix(3, 1, [5, 9, 1]), [0, 1, 2])).toBeCloseTo(2 / 3, 15);
  });

  it('rejects empty sets and mismatched widths', () => {
    expect(rlsaError(() => nearestCentroidAccuracy(matrix(1, 1, [0]), [0], matrix(0, 1), [])).code).toBe('invalid_argument');
    expect(rlsaError(() => nearestCentroidAccuracy(matrix(1, 1, [0]), [0], matrix(1, 2, [0, 1]), [0])).code).toBe('shape_mismatch');
  });
});
