import { RlsaError } from './errors.ts';
import { assertMatrix, type Matrix } from './matrix.ts';

/**
 * The paper's naive baseline: the absolute embeddings of all models stacked as separate
 * samples, with no alignment. Spaces Nₖ×Dₖ become a (Σ Nₖ)×(max Dₖ) Float32 matrix, rows of
 * space 0 first, each row zero-padded on the right to the widest D.
 */
export function jumble(spaces: readonly Matrix[]): Matrix {
  if (spaces.length === 0) throw new RlsaError('invalid_argument', 'no spaces to jumble');
  spaces.forEach((s, k) => assertMatrix(s, `space ${k}`));
  const width = Math.max(...spaces.map((s) => s.cols));
  const rows = spaces.reduce((n, s) => n + s.rows, 0);
  const data = new Float32Array(rows * width);
  let r = 0;
  for (const s of spaces) {
    for (let i = 0; i < s.rows; i++, r++) data.set(s.data.subarray(i * s.cols, (i + 1) * s.cols), r * width);
  }
  return { rows, cols: width, data };
}

/**
 * Element-wise mean of absolute spaces of identical shape N×D (meaningful only when the
 * models share a basis; the baseline RLSA improves on): (1/K) Σₖ Xₖ, Float32, summed in float64.
 */
export function absoluteMean(spaces: readonly Matrix[]): Matrix {
  if (spaces.length === 0) throw new RlsaError('invalid_argument', 'no spaces to average');
  spaces.forEach((s, k) => assertMatrix(s, `space ${k}`));
  const { rows, cols } = spaces[0]!;
  spaces.forEach((s, k) => {
    if (s.rows !== rows || s.cols !== cols) {
      throw new RlsaError('shape_mismatch', `space ${k} is ${s.rows}×${s.cols}, space 0 is ${rows}×${cols}`);
    }
  });
  const sums = new Float64Array(rows * cols);
  for (const s of spaces) for (let t = 0; t < sums.length; t++) sums[t]! += s.data[t]!;
  const data = new Float32Array(rows * cols);
  for (let t = 0; t < sums.length; t++) data[t] = sums[t]! / spaces.length;
  return { rows, cols, data };
}
