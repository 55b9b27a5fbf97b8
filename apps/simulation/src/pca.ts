import type { Matrix } from '@rlsa/core';

export interface Pca2 {
  /** N×2 row-major projections of the centred rows on the two leading components. */
  readonly coords: Float64Array;
  /** The two leading unit-norm principal directions, each of length D. */
  readonly components: readonly [Float64Array, Float64Array];
  /** Fraction of the total variance along each component. */
  readonly explained: readonly [number, number];
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
  const { rows: n, cols: d, data } = x;
  const iterations = options.iterations ?? 500;
  const tolerance = options.tolerance ?? 1e-10;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += data[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j]! /= Math.max(n, 1);
  const centred = new Float64Array(n * d);
  let totalVariance = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = data[i * d + j]! - mean[j]!;
      centred[i * d + j] = v;
      totalVariance += v * v;
    }
  }
  const scores = new Float64Array(n);
  // C·v = X̄ᵀ(X̄v)/(N−1); returns the eigenvalue estimate vᵀCv for a unit v.
  const covTimes = (v: Float64Array, out: Float64Array): void => {
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
  const leading = (deflate: Float64Array | null): { vector: Float64Array; value: number } => {
    let v = new Float64Array(d);
    for (let j = 0; j < d; j++) v[j] = 1 + ((j * 7919) % 13) / 13; // fixed, not orthogonal to anything in particular
    let next = new Float64Array(d);
    let value = 0;
    const project = (u: Float64Array): void => {
      if (!deflate) return;
      let dot = 0;
      for (let j = 0; j < d; j++) dot += u[j]! * deflate[j]!;
      for (let j = 0; j < d; j++) u[j]! -= dot * deflate[j]!;
    };
    const normalise = (u: Float64Array): number => {
      let norm = 0;
      for (let j = 0; j < d; j++) norm += u[j]! * u[j]!;
      norm = Math.sqrt(norm);
      if (norm > 0) for (let j = 0; j < d; j++) u[j]! /= norm;
      return norm;
    };
    project(v);
    normalise(v);
    for (let it = 0; it < iterations; it++) {
      covTimes(v, next);
      project(next);
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
  };
  const first = leading(null);
  const second = d > 1 ? leading(first.vector) : { vector: new Float64Array(d), value: 0 };
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
  const total = totalVariance / Math.max(n - 1, 1);
  return {
    coords,
    components: [first.vector, second.vector],
    explained: total > 0 ? [first.value / total, second.value / total] : [0, 0],
  };
}
