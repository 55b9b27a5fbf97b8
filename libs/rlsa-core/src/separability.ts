import { RlsaError } from './errors.ts';
import { checkLabels, indicesByClass } from './labels.ts';
import { assertFinite, assertMatrix, type Matrix } from './matrix.ts';

/**
 * The paper's separability score of labelled points x (N×D, labels of length N): for each
 * pair of classes (a, b), a < b, with at least one of them in `subset` when given,
 *   sep(a, b) = ‖μ_a − μ_b‖₂ / ((s̄_a + s̄_b) / 2),  s̄_c = (1/|c|) Σ_{i ∈ c} ‖xᵢ − μ_c‖₂,
 * and the score is the mean of sep over those pairs (`pairs` of them). Float64 throughout.
 * Higher means classes lie farther apart relative to their spread.
 * Throws `invalid_argument` with fewer than one pair or a subset class absent from the labels,
 * `zero_norm` when both classes of a pair have zero spread.
 */
export function separability(x: Matrix, labels: ArrayLike<number>, options: { subset?: readonly number[] | undefined } = {}): { score: number; pairs: number } {
  assertMatrix(x, 'x');
  assertFinite(x, 'x');
  const y = checkLabels(labels, x.rows, 'labels');
  const groups = indicesByClass(y);
  const classes = [...groups.keys()];
  const subset = options.subset ? new Set(options.subset) : null;
  if (subset) {
    for (const c of subset) if (!groups.has(c)) throw new RlsaError('invalid_argument', `subset class ${c} has no samples`);
  }
  const d = x.cols;
  const centroids = new Map<number, Float64Array>();
  const spreads = new Map<number, number>();
  for (const [c, idx] of groups) {
    const mu = new Float64Array(d);
    for (const i of idx) for (let k = 0; k < d; k++) mu[k]! += x.data[i * d + k]!;
    for (let k = 0; k < d; k++) mu[k]! /= idx.length;
    let spread = 0;
    for (const i of idx) {
      let sq = 0;
      for (let k = 0; k < d; k++) {
        const v = x.data[i * d + k]! - mu[k]!;
        sq += v * v;
      }
      spread += Math.sqrt(sq);
    }
    centroids.set(c, mu);
    spreads.set(c, spread / idx.length);
  }
  let total = 0;
  let pairs = 0;
  for (let p = 0; p < classes.length; p++) {
    for (let q = p + 1; q < classes.length; q++) {
      const a = classes[p]!;
      const b = classes[q]!;
      if (subset && !subset.has(a) && !subset.has(b)) continue;
      const spread = (spreads.get(a)! + spreads.get(b)!) / 2;
      if (!(spread > 0)) throw new RlsaError('zero_norm', `classes ${a} and ${b} both have zero spread: separability is undefined`);
      const ma = centroids.get(a)!;
      const mb = centroids.get(b)!;
      let sq = 0;
      for (let k = 0; k < d; k++) sq += (ma[k]! - mb[k]!) ** 2;
      total += Math.sqrt(sq) / spread;
      pairs++;
    }
  }
  if (pairs === 0) throw new RlsaError('invalid_argument', `separability needs at least one class pair (classes present: ${classes.length})`);
  return { score: total / pairs, pairs };
}
