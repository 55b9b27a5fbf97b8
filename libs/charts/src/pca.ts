import type { Matrix } from '@rlsa/core';

export interface Pca2 {
  /** N×2 row-major projections of the centred rows on the two leading components. */
  readonly coords: Float64Array;
  /** The two leading unit-norm principal directions, each of length D. */
  readonly components: readonly [Float64Array, Float64Array];
  /** Fraction of the total variance along each component. */
  readonly explained: readonly [number, number];
}

/** The column-centred rows of `x` (N×D, float64) and their total sum of squares. */
function centre(x: Matrix): { centred: Float64Array; sumOfSquares: number } {
  const { rows: n, cols: d, data } = x;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += data[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j]! /= Math.max(n, 1);
  const centred = new Float64Array(n * d);
  let sumOfSquares = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = data[i * d + j]! - mean[j]!;
      centred[i * d + j] = v;
      sumOfSquares += v * v;
    }
  }
  return { centred, sumOfSquares };
}

/** out ← C·v = X̄ᵀ(X̄v)/(N−1), without forming C (N×D centred rows). */
function covarianceTimes(centred: Float64Array, n: number, d: number): (v: Float64Array, out: Float64Array) => void {
  const scores = new Float64Array(n);
  return (v, out) => {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += centred[i * d + j]! * v[j]!;
      scores[i] = s;
    }
    out.fill(0);
    for (let i = 0; i < n; i++) {
      const s = scores[i]!;
      for (let j = 0; j < d; j++) out[j]! += centred[i * d + j]! * s;
    }
    for (let j = 0; j < d; j++) out[j]! /= Math.max(n - 1, 1);
  };
}

/** u ← u − (u·w)w for a unit w (nothing without one). */
function deflateBy(u: Float64Array, w: Float64Array | null): void {
  if (!w) return;
  let dot = 0;
  for (let j = 0; j < u.length; j++) dot += u[j]! * w[j]!;
  for (let j = 0; j < u.length; j++) u[j]! -= dot * w[j]!;
}

/** Scales u to unit norm (when not zero); returns its norm before. */
function normalise(u: Float64Array): number {
  let norm = 0;
  for (let j = 0; j < u.length; j++) norm += u[j]! * u[j]!;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let j = 0; j < u.length; j++) u[j]! /= norm;
  return norm;
}

/**
 * The leading eigenvector of C (orthogonal to `deflate`) by power iteration from a fixed start, and
 * its eigenvalue ‖C·v‖; signed so that its largest-magnitude entry is positive.
 */
function leadingEigenvector(covTimes: (v: Float64Array, out: Float64Array) => void, d: number, deflate: Float64Array | null, iterations: number, tolerance: number): { vector: Float64Array; value: number } {
  let v = new Float64Array(d);
  for (let j = 0; j < d; j++) v[j] = 1 + ((j * 7919) % 13) / 13; // fixed, not orthogonal to anything in particular
  let next = new Float64Array(d);
  let value = 0;
  deflateBy(v, deflate);
  normalise(v);
  for (let it = 0; it < iterations; it++) {
    covTimes(v, next);
    deflateBy(next, deflate);
    value = normalise(next);
    if (value === 0) break;
    let change = 0;
    for (let j = 0; j < d; j++) change += (next[j]! - v[j]!) ** 2;
    [v, next] = [next, v];
    if (change < tolerance) break;
  }
  let largest = 0;
  for (let j = 0; j < d; j++) if (Math.abs(v[j]!) > Math.abs(v[largest]!)) largest = j;
  if (v[largest]! < 0) for (let j = 0; j < d; j++) v[j] = -v[j]!;
  return { vector: v, value };
}

/**
 * The top two principal components of the rows of `x` (N×D), for a 2-D picture of a space.
 *
 * C = X̄ᵀX̄/(N−1) with X̄ the column-centred rows; the leading eigenvectors of C are found by power
 * iteration, v ← C·v/‖C·v‖ (computed as X̄ᵀ(X̄v) without forming C), the second after deflating the
 * first (v ← v − (v·u₁)u₁ every step). The start vector is fixed, so the result is deterministic;
 * each component's sign is chosen so that its largest-magnitude entry is positive.
 * Costs O(iterations · N · D). Eigenvalues that are nearly equal converge slowly; 500 iterations
 * are plenty for a plot.
 */
export function pca2(x: Matrix, options: { iterations?: number; tolerance?: number } = {}): Pca2 {
  const { rows: n, cols: d } = x;
  const iterations = options.iterations ?? 500;
  const tolerance = options.tolerance ?? 1e-10;
  const { centred, sumOfSquares } = centre(x);
  const covTimes = covarianceTimes(centred, n, d);
  const first = leadingEigenvector(covTimes, d, null, iterations, tolerance);
  const second = d > 1 ? leadingEigenvector(covTimes, d, first.vector, iterations, tolerance) : { vector: new Float64Array(d), value: 0 };
  const coords = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    let a = 0;
    let b = 0;
    for (let j = 0; j < d; j++) {
      a += centred[i * d + j]! * first.vector[j]!;
      b += centred[i * d + j]! * second.vector[j]!;
    }
    coords[2 * i] = a;
    coords[2 * i + 1] = b;
  }
  const total = sumOfSquares / Math.max(n - 1, 1);
  return { coords, components: [first.vector, second.vector], explained: total > 0 ? [first.value / total, second.value / total] : [0, 0] };
}
