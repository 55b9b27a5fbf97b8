import { expect } from 'vitest';
import { randomFloat, seededRng, type Rng } from '../src/random.ts';
import type { Matrix } from '../src/matrix.ts';
import { RlsaError } from '../src/errors.ts';
import { jsLinalg, type Linalg } from '../src/linalg.ts';

/** Relative tolerance for results computed from float32 data or stored as float32 (2^-23 ≈ 1.2e-7 per rounding, with headroom). */
export const FLOAT32_TOLERANCE = 1e-5;
/** Relative tolerance for float64 pipelines (sums of a few thousand terms). */
export const FLOAT64_TOLERANCE = 1e-9;

/** |actual − expected| ≤ rtol · max(|expected|, floor): relative, with an absolute floor for values near 0. */
export function expectClose(actual: number, expected: number, rtol: number, floor = 1): void {
  const err = Math.abs(actual - expected);
  const bound = rtol * Math.max(Math.abs(expected), floor);
  if (!(err <= bound)) expect.fail(`expected ${actual} to be within ${bound} of ${expected} (error ${err})`);
}

export function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, floor = 1): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i]! - expected[i]!);
    const bound = rtol * Math.max(Math.abs(expected[i]!), floor);
    if (!(err <= bound)) expect.fail(`element ${i}: ${actual[i]} is not within ${bound} of ${expected[i]} (error ${err})`);
  }
}

/** A row-major Float32 matrix from nested arrays (the fixtures' inputs are float32-exact). */
export function f32(rows: readonly (readonly number[])[]): Matrix {
  const cols = rows[0]?.length ?? 0;
  return { rows: rows.length, cols, data: Float32Array.from(rows.flat()) };
}

export function f64(rows: readonly (readonly number[])[]): Matrix {
  const cols = rows[0]?.length ?? 0;
  return { rows: rows.length, cols, data: Float64Array.from(rows.flat()) };
}

/** Standard-normal-ish entries (Box–Muller on the core's seeded generator). */
export function gaussian(rng: Rng, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - randomFloat(rng);
    const v = randomFloat(rng);
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

export function randomMatrix(rows: number, cols: number, seed: number, float32 = false): Matrix {
  const data = gaussian(seededRng(seed), rows * cols);
  return { rows, cols, data: float32 ? Float32Array.from(data) : data };
}

/** A random d×d orthogonal matrix: Gram–Schmidt (twice, for stability) on a seeded Gaussian matrix. */
export function orthogonal(d: number, seed: number): Matrix {
  const q = gaussian(seededRng(seed), d * d); // rows are the vectors
  for (let i = 0; i < d; i++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < i; j++) {
        let dot = 0;
        for (let k = 0; k < d; k++) dot += q[i * d + k]! * q[j * d + k]!;
        for (let k = 0; k < d; k++) q[i * d + k]! -= dot * q[j * d + k]!;
      }
    }
    let norm = 0;
    for (let k = 0; k < d; k++) norm += q[i * d + k]! ** 2;
    norm = Math.sqrt(norm);
    for (let k = 0; k < d; k++) q[i * d + k]! /= norm;
  }
  return { rows: d, cols: d, data: q };
}

/** x (n×k) · q (k×m) · scale, in float64. */
export function multiply(x: Matrix, q: Matrix, scale = 1): Matrix {
  const out = new Float64Array(x.rows * q.cols);
  for (let i = 0; i < x.rows; i++) {
    for (let k = 0; k < x.cols; k++) {
      const v = x.data[i * x.cols + k]! * scale;
      for (let j = 0; j < q.cols; j++) out[i * q.cols + j]! += v * q.data[k * q.cols + j]!;
    }
  }
  return { rows: x.rows, cols: q.cols, data: out };
}

/** A deep copy, to check afterwards that a function did not mutate its input. */
export function snapshot(m: Matrix): Matrix {
  return { rows: m.rows, cols: m.cols, data: m.data.slice() };
}

/** Runs `fn` and returns the RlsaError it threw (fails the test if it threw nothing or something else). */
export function rlsaError(fn: () => unknown): RlsaError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RlsaError) return e;
    throw e;
  }
  return expect.fail('expected an RlsaError to be thrown') as never;
}

/**
 * A reference backend with the optional fused capabilities of `Linalg`, written with jsLinalg:
 * it builds exactly the float32 blocks the core builds itself (shift and scale in float64, one
 * rounding), so the core's fused and plain paths must agree. `calls` counts what was used.
 */
export function fusedReferenceLinalg(): Required<Linalg> & { calls: { abt: number; abtInto: number; atb: number; accumulate: number; sums: number } } {
  const calls = { abt: 0, abtInto: 0, atb: 0, accumulate: 0, sums: 0 };
  const transformed = (m: Matrix, shift: Float64Array | null | undefined, scale: Float64Array | null | undefined): Matrix => {
    const out = m.data instanceof Float64Array && !scale ? new Float64Array(m.data.length) : new Float32Array(m.data.length);
    for (let i = 0; i < m.rows; i++)
      for (let c = 0; c < m.cols; c++) out[i * m.cols + c] = (m.data[i * m.cols + c]! - (shift ? shift[c]! : 0)) * (scale ? scale[i]! : 1);
    return { rows: m.rows, cols: m.cols, data: out };
  };
  return {
    calls,
    matmulABt(a, b) {
      calls.abt++;
      return jsLinalg.matmulABt(a, b);
    },
    matmulAtB(a, b) {
      calls.atb++;
      return jsLinalg.matmulAtB(a, b);
    },
    matmulABtInto(a, b, out, options = {}) {
      calls.abtInto++;
      const p = jsLinalg.matmulABt(transformed(a, options.aShift, options.aScale), b).data;
      const [lo, hi] = options.clamp ?? [-Infinity, Infinity];
      for (let t = 0; t < p.length; t++) out[t] = Math.min(hi, Math.max(lo, p[t]!));
    },
    columnSums(a, shift) {
      calls.sums++;
      const t = transformed(a, shift, null);
      const out = new Float64Array(a.cols);
      for (let i = 0; i < a.rows; i++) for (let c = 0; c < a.cols; c++) out[c]! += t.data[i * a.cols + c]!;
      return out;
    },
    accumulateAtB(a, aShift, b, bShift, acc) {
      calls.accumulate++;
      const p = jsLinalg.matmulAtB(transformed(a, aShift, null), transformed(b, bShift, null)).data;
      for (let t = 0; t < p.length; t++) acc[t]! += p[t]!;
    },
  };
}
