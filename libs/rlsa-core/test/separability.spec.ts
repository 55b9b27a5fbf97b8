import { describe, expect, it } from 'vitest';
import fixture from './fixtures/metrics.json' with { type: 'json' };
import { matrix } from '../src/matrix.ts';
import { separability } from '../src/separability.ts';
import { expectClose, f32, FLOAT32_TOLERANCE, rlsaError } from './helpers.ts';

describe('separability', () => {
  const x = f32(fixture.x);

  it('matches NumPy over all class pairs and over pairs touching a subset (scripts/fixtures/core_fixtures.py)', () => {
    const all = separability(x, fixture.labels);
    expect(all.pairs).toBe(fixture.separability.pairs);
    expectClose(all.score, fixture.separability.score, FLOAT32_TOLERANCE);
    const sub = separability(x, fixture.labels, { subset: [0] });
    expect(sub.pairs).toBe(fixture.separabilitySubset0.pairs);
    expectClose(sub.score, fixture.separabilitySubset0.score, FLOAT32_TOLERANCE);
  });

  it('is the hand-computed value on a tiny example', () => {
    // Class 0 at ±1 around 0, class 1 at ±1 around 10: distance 10, mean spreads 1 → 10.
    const r = separability(matrix(4, 1, [-1, 1, 9, 11]), [0, 0, 1, 1]);
    expect(r).toEqual({ score: 10, pairs: 1 });
  });

  it('rejects a single class, an absent subset class, zero spread, mismatched labels', () => {
    expect(rlsaError(() => separability(matrix(2, 1, [1, 2]), [0, 0])).code).toBe('invalid_argument');
    expect(rlsaError(() => separability(x, fixture.labels, { subset: [99] })).code).toBe('invalid_argument');
    expect(rlsaError(() => separability(matrix(2, 1, [1, 2]), [0, 1])).code).toBe('zero_norm');
    expect(rlsaError(() => separability(matrix(2, 1, [1, 2]), [0])).code).toBe('shape_mismatch');
    expect(rlsaError(() => separability(matrix(2, 1, [1, 2]), [0, -1])).code).toBe('invalid_argument');
  });
});
