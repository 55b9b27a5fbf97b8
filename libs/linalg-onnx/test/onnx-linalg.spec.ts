import { describe, expect, it } from 'vitest';
import { jsLinalg, linearCka, randomFloat, relativeProjection, seededRng, type Matrix } from '@rlsa/core';
import { OnnxLinalg } from '../src/index.ts';

/**
 * float32 products: each entry is a k-term float32 dot product, whose rounding error relative to
 * Σ|aᵢ·bᵢ| grows like √k·2⁻²⁴ (random rounding); 1e-5·√k leaves a wide margin above that.
 */
const float32Tolerance = (k: number) => 1e-5 * Math.sqrt(k);
/** Scores computed from float64-accumulated float32 products (CKA, relative projection). */
const SCORE_TOLERANCE = 1e-6;

function randomMatrix(rows: number, cols: number, seed: number, type: 'f32' | 'f64' = 'f32'): Matrix {
  // Uniform values in [-1, 1) from the project's seeded generator, reproducible per seed.
  const rng = seededRng(seed);
  const data = type === 'f32' ? new Float32Array(rows * cols) : new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = 2 * randomFloat(rng) - 1;
  return { rows, cols, data };
}

/** max |x − y| / max(Σ-scale): compares against the magnitude scale of the product. */
function expectProductClose(got: Matrix, want: Matrix, scale: number, tol: number): void {
  expect([got.rows, got.cols]).toEqual([want.rows, want.cols]);
  let worst = 0;
  for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(got.data[i]! - want.data[i]!) / scale);
  expect(worst).toBeLessThan(tol);
}

describe('OnnxLinalg', () => {
  // minWork 0: every product goes to ONNX Runtime, however small.
  const onnx = new OnnxLinalg({ threads: 2, minWork: 0, reduceRows: 100 });

  it('matmulABt matches jsLinalg (float32 result, odd sizes, float64 input)', () => {
    for (const [m, n, k, type] of [
      [1, 1, 1, 'f32'],
      [37, 19, 65, 'f32'],
      [300, 129, 257, 'f64'],
    ] as const) {
      const a = randomMatrix(m, k, m + k, type);
      const b = randomMatrix(n, k, n + 7 * k, type);
      const got = onnx.matmulABt(a, b);
      expect(got.data).toBeInstanceOf(Float32Array);
      // Entries are sums of k products of values in [-1, 1]: scale √k (their typical size).
      expectProductClose(got, jsLinalg.matmulABt(a, b), Math.sqrt(k), float32Tolerance(k));
    }
  });

  it('matmulAtB matches jsLinalg over several row blocks (float64 result, views at offsets, A = B)', () => {
    const a = randomMatrix(1037, 71, 3);
    const b = randomMatrix(1037, 33, 4);
    const got = onnx.matmulAtB(a, b);
    expect(got.data).toBeInstanceOf(Float64Array);
    expectProductClose(got, jsLinalg.matmulAtB(a, b), Math.sqrt(a.rows), float32Tolerance(a.rows));
    expectProductClose(onnx.matmulAtB(a, a), jsLinalg.matmulAtB(a, a), Math.sqrt(a.rows), float32Tolerance(a.rows));
    // A row block that starts inside a larger buffer (what linearCka passes).
    const view: Matrix = { rows: 500, cols: 71, data: a.data.subarray(71 * 400, 71 * 900) };
    expectProductClose(onnx.matmulAtB(view, view), jsLinalg.matmulAtB(view, view), Math.sqrt(500), float32Tolerance(500));
  });

  it('refuses mismatched shapes', () => {
    expect(() => onnx.matmulABt(randomMatrix(3, 4, 1), randomMatrix(3, 5, 2))).toThrow(/shape_mismatch|matmulABt/);
    expect(() => onnx.matmulAtB(randomMatrix(3, 4, 1), randomMatrix(4, 4, 2))).toThrow(/matmulAtB/);
  });

  it('linearCka and relativeProjection through it agree with jsLinalg', () => {
    const x = randomMatrix(2000, 48, 11);
    const noise = randomMatrix(2000, 48, 12);
    const y: Matrix = { rows: 2000, cols: 48, data: x.data.map((v, i) => v + 0.5 * noise.data[i]!) };
    const want = linearCka(x, y, { linalg: jsLinalg });
    const got = linearCka(x, y, { linalg: onnx, blockRows: 512 });
    expect(want).toBeGreaterThan(0.5);
    expect(Math.abs(got - want)).toBeLessThan(SCORE_TOLERANCE);

    const anchors = randomMatrix(64, 48, 13);
    const r1 = relativeProjection(x, anchors, { similarity: 'cosine', linalg: onnx });
    const r0 = relativeProjection(x, anchors, { similarity: 'cosine', linalg: jsLinalg });
    let worst = 0;
    for (let i = 0; i < r0.data.length; i++) worst = Math.max(worst, Math.abs(r1.data[i]! - r0.data[i]!));
    expect(worst).toBeLessThan(SCORE_TOLERANCE);
  });
});
