import { RlsaError } from './errors.ts';
import { LinearCkaAccumulator, type LinearCkaOptions } from './linear-cka-accumulator.ts';
import { assertFinite, assertMatrix, columnMeans, type Matrix } from './matrix.ts';

/**
 * Linear CKA between x (N×Dx) and y (N×Dy), rows being the same samples, computed in
 * feature space: O(N·(Dx+Dy)²) time, O((Dx+Dy)²) memory, never an N×N matrix.
 *
 * Biased (the paper's, Kornblith et al. 2019): with X̄, Ȳ column-centered,
 * CKA = ‖X̄ᵀȲ‖²_F / (‖X̄ᵀX̄‖_F · ‖ȲᵀȲ‖_F), in [0, 1].
 * Debiased: the same ratio of unbiased HSIC estimators (Song et al. 2012), see
 * {@link LinearCkaAccumulator}; needs N ≥ 4 and can be slightly negative for unrelated spaces.
 *
 * Column means are computed in float64 first and each row block is centered before the
 * product, so a float32 `linalg` still yields ~1e-6-accurate values; blocks are summed in float64.
 * Throws `shape_mismatch` (row counts differ), `invalid_argument` (too few rows, no columns),
 * `non_finite`, and `zero_norm` when a space has no variance.
 */
export function linearCka(x: Matrix, y: Matrix, options: LinearCkaOptions = {}): number {
  assertMatrix(x, 'x');
  assertMatrix(y, 'y');
  if (x.rows !== y.rows) throw new RlsaError('shape_mismatch', `x has ${x.rows} rows, y has ${y.rows}: CKA compares the same samples`);
  if (x.cols === 0 || y.cols === 0) throw new RlsaError('invalid_argument', 'x and y need at least one column');
  const minRows = options.debiased ? 4 : 2;
  if (x.rows < minRows) throw new RlsaError('invalid_argument', `linear CKA needs at least ${minRows} rows, got ${x.rows}`);
  // Column means in float64 — by the backend when it has the fused centred product and column
  // sums (vectorised), else here. A NaN or ±Inf makes its column's mean non-finite, and only then
  // is the slower element-by-element check run (for its message naming the element).
  const linalg = options.linalg;
  const means = (m: Matrix): Float64Array => {
    if (linalg?.accumulateAtB === undefined || linalg.columnSums === undefined || options.debiased) return columnMeans(m);
    const sums = linalg.columnSums(m, null);
    if (sums.length !== m.cols) throw new RlsaError('failed_precondition', `linalg.columnSums returned ${sums.length} values, expected ${m.cols}`);
    for (let c = 0; c < sums.length; c++) sums[c]! /= m.rows;
    return sums;
  };
  const mx = means(x);
  if (!mx.every(Number.isFinite)) assertFinite(x, 'x');
  const my = y === x ? mx : means(y);
  if (y !== x && !my.every(Number.isFinite)) assertFinite(y, 'y');
  const acc = new LinearCkaAccumulator(x.cols, y.cols, { ...options, means: { x: mx, y: my } });
  acc.addRows(x, y);
  return acc.value();
}
