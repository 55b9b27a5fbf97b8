import { RlsaError } from './errors.ts';
import { jsLinalg, type Linalg } from './linalg.ts';
import { assertFinite, assertMatrix, type Matrix } from './matrix.ts';

/** Similarity entries per block of rows (bounds the temporary block × N matrix to 16 MB of float32). */
const BLOCK_ELEMENTS = 1 << 22;

/**
 * Mutual k-nearest-neighbour alignment of two spaces over the same N samples:
 * (1/N) Σᵢ |kNNₓ(i) ∩ kNN_y(i)| / k, where kNN(i) are the k rows of highest cosine
 * similarity to row i, i itself excluded (ties broken towards the lower index). In [0, 1].
 * O(N²·D) time via `linalg` on row blocks, O(N·k) memory besides one block.
 * Throws `invalid_argument` unless 1 ≤ k ≤ N − 1, `shape_mismatch`, `non_finite`, `zero_norm`.
 */
export function mutualKnnAlignment(x: Matrix, y: Matrix, k: number, options: { linalg?: Linalg | undefined } = {}): number {
  assertMatrix(x, 'x');
  assertMatrix(y, 'y');
  if (x.rows !== y.rows) throw new RlsaError('shape_mismatch', `x has ${x.rows} rows, y has ${y.rows}`);
  const n = x.rows;
  if (!Number.isInteger(k) || k < 1 || k > n - 1) throw new RlsaError('invalid_argument', `k must be an integer in [1, ${n - 1}], got ${k}`);
  assertFinite(x, 'x');
  assertFinite(y, 'y');
  const linalg = options.linalg ?? jsLinalg;
  const nx = nearestNeighbours(normalizeRows(x, 'x'), k, linalg);
  const ny = nearestNeighbours(normalizeRows(y, 'y'), k, linalg);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const a = nx.subarray(i * k, (i + 1) * k);
    const b = new Set(ny.subarray(i * k, (i + 1) * k));
    let shared = 0;
    for (const j of a) if (b.has(j)) shared++;
    total += shared / k;
  }
  return total / n;
}

/** Rows scaled to unit L2 norm (norm in float64), Float32; `zero_norm` names a zero row. */
export function normalizeRows(x: Matrix, name: string): Matrix {
  const { rows, cols } = x;
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    let sq = 0;
    for (let c = 0; c < cols; c++) sq += x.data[i * cols + c]! ** 2;
    if (!(sq > 0)) throw new RlsaError('zero_norm', `${name} row ${i} has zero norm: cosine similarity needs a direction`);
    const s = 1 / Math.sqrt(sq);
    for (let c = 0; c < cols; c++) out[i * cols + c] = x.data[i * cols + c]! * s;
  }
  return { rows, cols, data: out };
}

/** For each row, its k most similar other rows (N×k indices, best first). */
function nearestNeighbours(unit: Matrix, k: number, linalg: Linalg): Int32Array {
  const n = unit.rows;
  const out = new Int32Array(n * k);
  const blockRows = Math.max(1, Math.floor(BLOCK_ELEMENTS / n));
  const bestSim = new Float64Array(k);
  const bestIdx = new Int32Array(k);
  for (let r0 = 0; r0 < n; r0 += blockRows) {
    const rb = Math.min(blockRows, n - r0);
    const block: Matrix = { rows: rb, cols: unit.cols, data: unit.data.subarray(r0 * unit.cols, (r0 + rb) * unit.cols) };
    const sims = linalg.matmulABt(block, unit).data;
    for (let i = 0; i < rb; i++) {
      const self = r0 + i;
      let filled = 0;
      for (let j = 0; j < n; j++) {
        if (j === self) continue;
        const s = sims[i * n + j]!;
        // Keep the k best in descending order; a later j only wins on strictly higher similarity.
        if (filled === k && s <= bestSim[k - 1]!) continue;
        let p = filled < k ? filled++ : k - 1;
        while (p > 0 && bestSim[p - 1]! < s) {
          bestSim[p] = bestSim[p - 1]!;
          bestIdx[p] = bestIdx[p - 1]!;
          p--;
        }
        bestSim[p] = s;
        bestIdx[p] = j;
      }
      out.set(bestIdx, self * k);
    }
  }
  return out;
}
