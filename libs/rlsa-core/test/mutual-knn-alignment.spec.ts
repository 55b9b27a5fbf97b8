import { describe, expect, it } from 'vitest';
import fixture from './fixtures/metrics.json' with { type: 'json' };
import { matrix } from '../src/matrix.ts';
import { mutualKnnAlignment } from '../src/mutual-knn-alignment.ts';
import { f32, multiply, orthogonal, rlsaError, snapshot } from './helpers.ts';

describe('mutualKnnAlignment', () => {
  const x = f32(fixture.x);
  const y = f32(fixture.y);

  it('matches NumPy for k = 1, 3, 5, 10 (scripts/fixtures/core_fixtures.py)', () => {
    for (const [k, expected] of Object.entries(fixture.mutualKnn)) {
      // A fraction with denominator N·k: exact up to float64 summation.
      expect(mutualKnnAlignment(x, y, Number(k))).toBeCloseTo(expected, 12);
    }
  });

  it('is 1 between a space and a rotated, scaled copy of it, and never mutates', () => {
    const x0 = snapshot(x);
    expect(mutualKnnAlignment(x, multiply(x, orthogonal(fixture.cols, 3), 7), 4)).toBe(1);
    expect(x).toEqual(x0);
  });

  it('rejects k outside [1, N−1], mismatched rows, zero rows', () => {
    expect(rlsaError(() => mutualKnnAlignment(x, y, 0)).code).toBe('invalid_argument');
    expect(rlsaError(() => mutualKnnAlignment(x, y, fixture.rows)).code).toBe('invalid_argument');
    expect(rlsaError(() => mutualKnnAlignment(matrix(3, 1, [1, 2, 3]), matrix(2, 1, [1, 2]), 1)).code).toBe('shape_mismatch');
    expect(rlsaError(() => mutualKnnAlignment(matrix(3, 1, [1, 0, 3]), matrix(3, 1, [1, 2, 3]), 1)).code).toBe('zero_norm');
  });
});
