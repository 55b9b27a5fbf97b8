import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import fixture from './fixtures/cka.json' with { type: 'json' };
import { matrix } from '../src/matrix.ts';
import { RBF_CKA_MAX_ROWS, rbfCka } from '../src/rbf-cka.ts';
import { expectClose, f32, FLOAT32_TOLERANCE, multiply, orthogonal, randomMatrix, rlsaError, snapshot } from './helpers.ts';

// Reference: scripts/fixtures/core_fixtures.py (N×N RBF Gram matrices, σ = scale × median over pairs i<j of the distance).
describe('rbfCka against NumPy', () => {
  for (const c of fixture.cases) {
    it(`${c.name}: biased, debiased, σ scale 0.5`, () => {
      const x = f32(c.x);
      const y = f32(c.y);
      expectClose(rbfCka(x, y), c.rbf, FLOAT32_TOLERANCE);
      expectClose(rbfCka(x, y, { debiased: true }), c.rbfDebiased, FLOAT32_TOLERANCE);
      expectClose(rbfCka(x, y, { sigmaScale: 0.5 }), c.rbfSigmaHalf, FLOAT32_TOLERANCE);
    });
  }
});

describe('rbfCka laws', () => {
  it('RBF CKA(X, s·XQ) = CKA(X, X) = 1: the median bandwidth follows rotation and scale', () => {
    fc.assert(
      fc.property(fc.integer({ min: 5, max: 40 }), fc.integer({ min: 1, max: 8 }), fc.integer(), fc.double({ min: 1e-2, max: 1e2, noNaN: true }), fc.boolean(), (n, d, seed, s, debiased) => {
        const x = randomMatrix(n, d, seed);
        expectClose(rbfCka(x, x, { debiased }), 1, FLOAT32_TOLERANCE);
        expectClose(rbfCka(x, multiply(x, orthogonal(d, seed + 1), s), { debiased }), 1, FLOAT32_TOLERANCE);
      }),
      { numRuns: 40 },
    );
  });

  it('does not mutate its inputs', () => {
    const x = randomMatrix(9, 3, 1, true);
    const y = randomMatrix(9, 2, 2, true);
    const [x0, y0] = [snapshot(x), snapshot(y)];
    rbfCka(x, y, { debiased: true });
    expect(x).toEqual(x0);
    expect(y).toEqual(y0);
  });
});

describe('rbfCka errors', () => {
  it(`refuses more than RBF_CKA_MAX_ROWS (${RBF_CKA_MAX_ROWS}) rows with too_large`, () => {
    const n = RBF_CKA_MAX_ROWS + 1;
    const err = rlsaError(() => rbfCka(matrix(n, 1), matrix(n, 1)));
    expect(err.code).toBe('too_large');
    expect(err.message).toContain(String(RBF_CKA_MAX_ROWS));
  });

  it('rejects a zero median distance, bad sigmaScale, mismatched rows', () => {
    const mostlySame = matrix(5, 1, [1, 1, 1, 1, 2]);
    expect(rlsaError(() => rbfCka(mostlySame, randomMatrix(5, 2, 1))).code).toBe('zero_norm');
    expect(rlsaError(() => rbfCka(randomMatrix(5, 2, 1), randomMatrix(5, 2, 2), { sigmaScale: 0 })).code).toBe('invalid_argument');
    expect(rlsaError(() => rbfCka(randomMatrix(5, 2, 1), randomMatrix(4, 2, 2))).code).toBe('shape_mismatch');
  });
});
