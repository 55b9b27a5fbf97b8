import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import fixture from './fixtures/aggregation.json' with { type: 'json' };
import { meanOverSpaces, weightedMeanOverSpaces, type Space } from '../src/mean-over-spaces.ts';
import { matrix } from '../src/matrix.ts';
import { expectAllClose, f32, FLOAT32_TOLERANCE, randomMatrix, rlsaError, snapshot } from './helpers.ts';

const spaces: Space[] = fixture.spaces.map((s) => ({ sampleIds: Uint32Array.from(s.sampleIds), values: f32(s.values) }));

describe('meanOverSpaces', () => {
  it('averages each sample over the spaces that contain it (NumPy fixture)', () => {
    const r = meanOverSpaces(spaces);
    expect(Array.from(r.sampleIds)).toEqual(fixture.sampleIds);
    expect(Array.from(r.counts)).toEqual(fixture.counts);
    expectAllClose(r.values.data, fixture.mean.flat(), FLOAT32_TOLERANCE);
  });

  it('weights each space (NumPy fixture)', () => {
    const r = weightedMeanOverSpaces(spaces, fixture.weights);
    expectAllClose(r.values.data, fixture.weightedMean.flat(), FLOAT32_TOLERANCE);
  });

  it('returns the space itself for identical spaces, ids sorted', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 1e6 }), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 5 }), fc.integer(), (ids, k, seed) => {
        const values = randomMatrix(ids.length, 4, seed, true);
        const space: Space = { sampleIds: Uint32Array.from(ids), values };
        const r = meanOverSpaces(Array.from({ length: k }, () => space));
        const order = ids.map((id, row) => ({ id, row })).sort((p, q) => p.id - q.id);
        expect(Array.from(r.sampleIds)).toEqual(order.map((o) => o.id));
        expect(r.counts.every((c) => c === k)).toBe(true);
        const expected = order.flatMap((o) => Array.from(values.data.subarray(o.row * 4, o.row * 4 + 4)));
        expectAllClose(r.values.data, expected, FLOAT32_TOLERANCE);
      }),
      { numRuns: 50 },
    );
  });

  it('does not mutate the spaces', () => {
    const before = spaces.map((s) => ({ ids: s.sampleIds.slice(), values: snapshot(s.values) }));
    weightedMeanOverSpaces(spaces, fixture.weights);
    spaces.forEach((s, k) => {
      expect(s.sampleIds).toEqual(before[k]!.ids);
      expect(s.values).toEqual(before[k]!.values);
    });
  });

  it('rejects no spaces, differing widths, a weight per space missing, duplicated ids', () => {
    expect(rlsaError(() => meanOverSpaces([])).code).toBe('invalid_argument');
    const narrow: Space = { sampleIds: Uint32Array.from([0]), values: matrix(1, 2, [1, 2]) };
    expect(rlsaError(() => meanOverSpaces([spaces[0]!, narrow])).code).toBe('shape_mismatch');
    expect(rlsaError(() => weightedMeanOverSpaces(spaces, [1, 2])).code).toBe('shape_mismatch');
    const dup: Space = { sampleIds: Uint32Array.from([4, 4]), values: matrix(2, 2, [1, 2, 3, 4]) };
    const err = rlsaError(() => meanOverSpaces([narrow, dup]));
    expect(err.code).toBe('invalid_argument');
    expect(err.message).toContain('space 1');
  });
});
