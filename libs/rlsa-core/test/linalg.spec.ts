import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsLinalg } from '../src/linalg.ts';
import type { Matrix } from '../src/matrix.ts';
import { expectAllClose, FLOAT32_TOLERANCE, FLOAT64_TOLERANCE, randomMatrix, rlsaError, snapshot } from './helpers.ts';

function naiveABt(a: Matrix, b: Matrix): Float64Array {
  const out = new Float64Array(a.rows * b.rows);
  for (let i = 0; i < a.rows; i++)
    for (let j = 0; j < b.rows; j++) {
      let s = 0;
      for (let k = 0; k < a.cols; k++) s += a.data[i * a.cols + k]! * b.data[j * b.cols + k]!;
      out[i * b.rows + j] = s;
    }
  return out;
}

function naiveAtB(a: Matrix, b: Matrix): Float64Array {
  const out = new Float64Array(a.cols * b.cols);
  for (let r = 0; r < a.rows; r++)
    for (let p = 0; p < a.cols; p++) for (let q = 0; q < b.cols; q++) out[p * b.cols + q]! += a.data[r * a.cols + p]! * b.data[r * b.cols + q]!;
  return out;
}

const dims = fc.record({ m: fc.integer({ min: 1, max: 150 }), n: fc.integer({ min: 1, max: 70 }), k: fc.integer({ min: 1, max: 40 }), seed: fc.integer() });

describe('jsLinalg.matmulABt', () => {
  it('equals the naive product for any shape (edges of the 4×4 and 64-row blocks included)', () => {
    fc.assert(
      fc.property(dims, ({ m, n, k, seed }) => {
        const a = randomMatrix(m, k, seed, true);
        const b = randomMatrix(n, k, seed + 1);
        const c = jsLinalg.matmulABt(a, b);
        expect([c.rows, c.cols]).toEqual([m, n]);
        expect(c.data).toBeInstanceOf(Float32Array);
        expectAllClose(c.data, naiveABt(a, b), FLOAT32_TOLERANCE);
      }),
      { numRuns: 40 },
    );
  });

  it('does not mutate its inputs and rejects mismatched widths', () => {
    const a = randomMatrix(5, 3, 1, true);
    const b = randomMatrix(4, 3, 2, true);
    const [a0, b0] = [snapshot(a), snapshot(b)];
    jsLinalg.matmulABt(a, b);
    expect(a).toEqual(a0);
    expect(b).toEqual(b0);
    expect(rlsaError(() => jsLinalg.matmulABt(a, randomMatrix(4, 2, 3))).code).toBe('shape_mismatch');
  });
});

describe('jsLinalg.matmulAtB', () => {
  it('equals the naive float64 product, for distinct and identical operands', () => {
    fc.assert(
      fc.property(dims, ({ m, n, k, seed }) => {
        const a = randomMatrix(m, k, seed, true);
        const b = randomMatrix(m, n, seed + 1);
        const c = jsLinalg.matmulAtB(a, b);
        expect([c.rows, c.cols]).toEqual([k, n]);
        expect(c.data).toBeInstanceOf(Float64Array);
        expectAllClose(c.data, naiveAtB(a, b), FLOAT64_TOLERANCE);
        const s = jsLinalg.matmulAtB(a, a); // symmetric path: upper tiles mirrored
        expectAllClose(s.data, naiveAtB(a, a), FLOAT64_TOLERANCE);
      }),
      { numRuns: 40 },
    );
  });

  it('rejects operands with different row counts', () => {
    expect(rlsaError(() => jsLinalg.matmulAtB(randomMatrix(5, 3, 1), randomMatrix(4, 3, 2))).code).toBe('shape_mismatch');
  });
});
