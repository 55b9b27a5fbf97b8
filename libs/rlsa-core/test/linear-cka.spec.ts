import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import fixture from './fixtures/cka.json' with { type: 'json' };
import { jsLinalg, type Linalg } from '../src/linalg.ts';
import { linearCka } from '../src/linear-cka.ts';
import { matrix, type Matrix } from '../src/matrix.ts';
import { expectClose, f32, FLOAT32_TOLERANCE, FLOAT64_TOLERANCE, multiply, orthogonal, randomMatrix, rlsaError, snapshot } from './helpers.ts';

/**
 * A Linalg that behaves like a float32 backend (tfjs): the operands are rounded to float32
 * and each block product is rounded to float32 before the core accumulates it in float64.
 */
const float32Linalg: Linalg = {
  matmulABt: (a, b) => jsLinalg.matmulABt(a, b),
  matmulAtB: (a, b) => {
    const r = jsLinalg.matmulAtB({ ...a, data: Float32Array.from(a.data) }, { ...b, data: Float32Array.from(b.data) });
    return { ...r, data: Float32Array.from(r.data) };
  },
};

/** A Linalg that accumulates every dot product in float32 (Math.fround at each step), like a naive GPU/wasm kernel. */
const float32AccumulatingLinalg: Linalg = {
  matmulABt: (a, b) => jsLinalg.matmulABt(a, b),
  matmulAtB: (a, b) => {
    const out = new Float32Array(a.cols * b.cols);
    for (let r = 0; r < a.rows; r++) {
      for (let p = 0; p < a.cols; p++) {
        const v = Math.fround(a.data[r * a.cols + p]!);
        for (let q = 0; q < b.cols; q++) {
          const o = p * b.cols + q;
          out[o] = Math.fround(out[o]! + Math.fround(v * Math.fround(b.data[r * b.cols + q]!)));
        }
      }
    }
    return { rows: a.cols, cols: b.cols, data: out };
  },
};

// Reference: scripts/fixtures/core_fixtures.py, CKA through explicit N×N Gram matrices in NumPy float64.
describe('linearCka against NumPy', () => {
  for (const c of fixture.cases) {
    const x = f32(c.x);
    const y = f32(c.y);
    it(`${c.name}: biased and debiased (Song et al. 2012)`, () => {
      expectClose(linearCka(x, y), c.linear, FLOAT32_TOLERANCE);
      expectClose(linearCka(x, y, { debiased: true }), c.linearDebiased, FLOAT32_TOLERANCE);
    });
    it(`${c.name}: a float32 backend still gives ~1e-6 (float64 centering before the products)`, () => {
      expectClose(linearCka(x, y, { linalg: float32Linalg, blockRows: 16 }), c.linear, FLOAT32_TOLERANCE);
      expectClose(linearCka(x, y, { linalg: float32Linalg, debiased: true, blockRows: 16 }), c.linearDebiased, FLOAT32_TOLERANCE);
    });
  }

  it('float32 accumulation inside blocks of 2048 rows, data offset by 1000: still within 1e-6 of float64', () => {
    const n = 8000;
    const x0 = randomMatrix(n, 6, 11);
    const y0 = randomMatrix(n, 4, 12);
    // y depends on x, plus noise; both far from the origin (the case where uncentered sums cancel).
    const x: Matrix = { ...x0, data: Float32Array.from(x0.data, (v) => v + 1000) };
    const y: Matrix = { ...y0, data: Float32Array.from(y0.data, (v, i) => v + 2 * x0.data[Math.floor(i / 4) * 6 + (i % 4)]! - 500) };
    const exact = (debiased: boolean) => linearCka({ ...x, data: Float64Array.from(x.data) }, { ...y, data: Float64Array.from(y.data) }, { debiased });
    for (const debiased of [false, true]) {
      expectClose(linearCka(x, y, { debiased, linalg: float32AccumulatingLinalg }), exact(debiased), 1e-6);
    }
  });

  it('the debiased estimate of unrelated spaces is near 0 and may be negative, the biased one is not', () => {
    const c = fixture.cases.find((k) => k.name === 'independent')!;
    expect(c.linearDebiased).toBeLessThan(0.05);
    expect(c.linear).toBeGreaterThan(c.linearDebiased);
  });
});

describe('linearCka laws (fast-check)', () => {
  const setup = fc.record({ n: fc.integer({ min: 4, max: 60 }), d: fc.integer({ min: 1, max: 12 }), seed: fc.integer(), scale: fc.double({ min: 1e-3, max: 1e3, noNaN: true }) });

  it('CKA(X, s·XQ) = CKA(X, X) = 1 for orthogonal Q and any s > 0, biased and debiased', () => {
    fc.assert(
      fc.property(setup, fc.boolean(), ({ n, d, seed, scale }, debiased) => {
        const x = randomMatrix(n, d, seed);
        const xq = multiply(x, orthogonal(d, seed + 1), scale);
        expectClose(linearCka(x, x, { debiased }), 1, FLOAT64_TOLERANCE);
        expectClose(linearCka(x, xq, { debiased }), 1, FLOAT64_TOLERANCE);
      }),
      { numRuns: 80 },
    );
  });

  it('is symmetric and invariant to translating either space', () => {
    fc.assert(
      fc.property(setup, fc.boolean(), ({ n, d, seed, scale }, debiased) => {
        const x = randomMatrix(n, d, seed);
        const y = randomMatrix(n, d + 2, seed + 1);
        const moved: Matrix = { ...y, data: y.data.map((v, i) => v + scale * ((i % (d + 2)) - 1)) };
        const xy = linearCka(x, y, { debiased });
        expectClose(linearCka(y, x, { debiased }), xy, FLOAT64_TOLERANCE);
        expectClose(linearCka(x, moved, { debiased }), xy, 1e-8);
      }),
      { numRuns: 60 },
    );
  });

  it('does not mutate its inputs', () => {
    const x = randomMatrix(9, 3, 1, true);
    const y = randomMatrix(9, 2, 2, true);
    const [x0, y0] = [snapshot(x), snapshot(y)];
    linearCka(x, y, { debiased: true });
    expect(x).toEqual(x0);
    expect(y).toEqual(y0);
  });
});

describe('linearCka errors', () => {
  it('rejects different row counts, too few rows, no variance, NaN', () => {
    expect(rlsaError(() => linearCka(randomMatrix(5, 2, 1), randomMatrix(6, 2, 2))).code).toBe('shape_mismatch');
    expect(rlsaError(() => linearCka(randomMatrix(3, 2, 1), randomMatrix(3, 2, 2), { debiased: true })).code).toBe('invalid_argument');
    expect(rlsaError(() => linearCka(randomMatrix(1, 2, 1), randomMatrix(1, 2, 2))).code).toBe('invalid_argument');
    const constant = matrix(5, 2, [1, 2, 1, 2, 1, 2, 1, 2, 1, 2]);
    const err = rlsaError(() => linearCka(constant, randomMatrix(5, 2, 2)));
    expect(err.code).toBe('zero_norm');
    expect(err.message).toContain('x has no variance');
    expect(rlsaError(() => linearCka(randomMatrix(5, 2, 1), matrix(5, 1, [1, 2, NaN, 4, 5]))).code).toBe('non_finite');
  });
});
