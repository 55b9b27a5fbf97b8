import { RlsaError } from './errors.ts';
import { jsLinalg, type Linalg } from './linalg.ts';
import { assertFinite, assertMatrix, assertNonEmpty, columnMeans, rowSlice, type Matrix } from './matrix.ts';

/**
 * How a sample x is compared with an anchor a (both D-vectors, after optional centering):
 * - `cosine` (default, as in the paper): ⟨x, a⟩ / (‖x‖₂ ‖a‖₂), in [-1, 1].
 * - `angular`: 1 − arccos(cos(x, a)) / π, in [0, 1] (1 = same direction, 0 = opposite).
 * - `euclidean`: −‖x − a‖₂ (negative distance, so larger means more similar; 0 at x = a).
 * - `l1`: −‖x − a‖₁ = −Σ_d |x_d − a_d|.
 * Cosine and angular need non-zero rows; euclidean and l1 do not.
 */
export const SIMILARITIES = ['cosine', 'euclidean', 'l1', 'angular'] as const;
export type Similarity = (typeof SIMILARITIES)[number];

export interface RelativeProjectionOptions {
  /** Default `cosine`. */
  readonly similarity?: Similarity | undefined;
  /** Subtract the anchor mean μ = (1/A) Σ_j a_j from the samples and the anchors first. Default false. */
  readonly center?: boolean | undefined;
  /** Backend for the N×A product; default `jsLinalg`. */
  readonly linalg?: Linalg | undefined;
  /** Rows of x per call to the backend (bounds temporary memory). Default 8192. */
  readonly blockRows?: number | undefined;
}

const DEFAULT_BLOCK_ROWS = 8192;
/** Euclidean pairs with ‖x − a‖² below this fraction of ‖x‖² + ‖a‖² are recomputed directly (keeps ~1e-6 relative accuracy). */
const NEAR_PAIR_RATIO = 1e-2;
/** Angular pairs with |cos| above this are recomputed with atan2 (arccos loses precision near ±1). */
const ANGULAR_DIRECT_COS = 0.999;

/**
 * Relative representation of samples x (N×D) on anchors (A×D): r (N×A, Float32) with
 * r[i, j] = sim(x_i − c, a_j − c), where c = μ (anchor mean) if `center`, else 0, and sim is
 * one of {@link Similarity}.
 *
 * Cosine and angular normalise rows in float64 and take one N×A product through `linalg`;
 * angular pairs with |cos| > 0.999 are recomputed as 2·atan2(‖u − v‖, ‖u + v‖) on the unit rows.
 * Euclidean uses ‖x − a‖² = ‖x‖² + ‖a‖² − 2⟨x, a⟩ on rows shifted by the anchor mean (a
 * shift that leaves distances unchanged but makes the expansion far less prone to
 * cancellation), clamped at 0; pairs closer than 10% of √(‖x‖² + ‖a‖²) are recomputed
 * directly, so every distance is accurate to ~1e-6 relative even with a float32 backend. L1 has no product form and runs a direct O(N·A·D) loop.
 * Cosine on a backend with the optional `Linalg.matmulABtInto` hands it the raw rows with their
 * shift and 1/‖x_i‖ scale and the clamp, and the products land straight in the result (same
 * values: the backend rounds exactly the float32 rows this function would otherwise build).
 *
 * Throws `shape_mismatch` when widths differ, `invalid_argument` for empty inputs or an
 * unknown similarity, `non_finite` for NaN/Inf, and `zero_norm` (naming the row) when
 * cosine/angular meets a zero row (possibly after centering). Never returns NaN.
 */
export function relativeProjection(x: Matrix, anchors: Matrix, options: RelativeProjectionOptions = {}): Matrix {
  assertMatrix(x, 'x');
  assertMatrix(anchors, 'anchors');
  const similarity = options.similarity ?? 'cosine';
  if (!(SIMILARITIES as readonly string[]).includes(similarity)) {
    throw new RlsaError('invalid_argument', `unknown similarity '${String(similarity)}' (expected ${SIMILARITIES.join(', ')})`);
  }
  if (x.cols !== anchors.cols) {
    throw new RlsaError('shape_mismatch', `x has ${x.cols} columns but the anchors have ${anchors.cols}`);
  }
  assertNonEmpty(anchors, 'anchors');
  if (x.cols === 0) throw new RlsaError('invalid_argument', 'x has no columns');
  const linalg = options.linalg ?? jsLinalg;
  // Cosine on a backend with the fused product: rows are shifted, scaled and clamped by the
  // backend while it reads them; the core only computes the row norms (which double as the
  // finiteness check of x: a NaN or ±Inf makes its row's norm non-finite).
  const fused = similarity === 'cosine' && linalg.matmulABtInto !== undefined;
  const xSquares = fused && !options.center ? rowSquaredNorms(x.data, x.rows, x.cols) : null;
  if (xSquares === null || !allFinite(xSquares)) assertFinite(x, 'x');
  assertFinite(anchors, 'anchors');
  const blockRows = options.blockRows ?? DEFAULT_BLOCK_ROWS;
  if (!Number.isInteger(blockRows) || blockRows < 1) throw new RlsaError('invalid_argument', `blockRows must be a positive integer, got ${blockRows}`);

  const n = x.rows;
  const a = anchors.rows;
  const d = x.cols;
  const out = new Float32Array(n * a);
  if (n === 0) return { rows: 0, cols: a, data: out };

  // Euclidean distances are shift-invariant: always work relative to the anchor mean.
  const shift = options.center || similarity === 'euclidean' ? columnMeans(anchors) : null;
  const normalize = similarity === 'cosine' || similarity === 'angular';

  if (similarity === 'l1') {
    l1Projection(x, anchors, shift, out);
    return { rows: n, cols: a, data: out };
  }

  const anchorRows = prepareRows(anchors, 0, a, shift, normalize, 'anchor');
  if (fused) {
    const squares = xSquares ?? shiftedRowSquaredNorms(x, shift);
    const scale = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const sq = squares[i]!;
      if (!(sq > 0)) throw zeroNorm('x', i, shift !== null);
      scale[i] = 1 / Math.sqrt(sq);
    }
    for (let r0 = 0; r0 < n; r0 += blockRows) {
      const r1 = Math.min(n, r0 + blockRows);
      linalg.matmulABtInto!(rowSlice(x, r0, r1), anchorRows, out.subarray(r0 * a, r1 * a), {
        aShift: shift ?? undefined,
        aScale: scale.subarray(r0, r1),
        clamp: [-1, 1],
      });
    }
    return { rows: n, cols: a, data: out };
  }
  const anchorSq = normalize ? null : rowSquaredNorms(anchorRows.data, a, d);
  for (let r0 = 0; r0 < n; r0 += blockRows) {
    const rb = Math.min(blockRows, n - r0);
    const block = prepareRows(x, r0, rb, shift, normalize, 'x');
    const product = linalg.matmulABt(block, anchorRows);
    if (product.rows !== rb || product.cols !== a) {
      throw new RlsaError('failed_precondition', `linalg.matmulABt returned ${product.rows}×${product.cols}, expected ${rb}×${a}`);
    }
    const p = product.data;
    const base = r0 * a;
    if (similarity === 'cosine') {
      for (let t = 0; t < rb * a; t++) out[base + t] = clamp(p[t]!, -1, 1);
    } else if (similarity === 'angular') {
      const bd = block.data;
      const ad = anchorRows.data;
      for (let i = 0; i < rb; i++) {
        for (let j = 0; j < a; j++) {
          const cos = clamp(p[i * a + j]!, -1, 1);
          // arccos is ill-conditioned near ±1 (a 1e-7 error in cos moves the angle by ~4e-4):
          // there the angle comes from θ = 2·atan2(‖u − v‖, ‖u + v‖) on the unit rows.
          let theta: number;
          if (Math.abs(cos) > ANGULAR_DIRECT_COS) {
            let minus = 0;
            let plus = 0;
            for (let c = 0; c < d; c++) {
              const u = bd[i * d + c]!;
              const v = ad[j * d + c]!;
              minus += (u - v) * (u - v);
              plus += (u + v) * (u + v);
            }
            theta = 2 * Math.atan2(Math.sqrt(minus), Math.sqrt(plus));
          } else {
            theta = Math.acos(cos);
          }
          out[base + i * a + j] = 1 - theta / Math.PI;
        }
      }
    } else {
      const xSq = rowSquaredNorms(block.data, rb, d);
      const bd = block.data;
      const ad = anchorRows.data;
      for (let i = 0; i < rb; i++) {
        const xi = xSq[i]!;
        for (let j = 0; j < a; j++) {
          const aj = anchorSq![j]!;
          let sq = xi + aj - 2 * p[i * a + j]!;
          // The expansion loses ~ε₃₂·(‖x‖² + ‖a‖²) absolutely; near pairs are recomputed directly.
          if (sq < NEAR_PAIR_RATIO * (xi + aj)) {
            sq = 0;
            for (let c = 0; c < d; c++) {
              const v = bd[i * d + c]! - ad[j * d + c]!;
              sq += v * v;
            }
          }
          out[base + i * a + j] = -Math.sqrt(sq > 0 ? sq : 0);
        }
      }
    }
  }
  return { rows: n, cols: a, data: out };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Rows [r0, r0 + count) of m, shifted by −shift and/or scaled to unit norm (norms in float64), as a Float32 matrix. */
function prepareRows(m: Matrix, r0: number, count: number, shift: Float64Array | null, normalize: boolean, name: string): Matrix {
  const d = m.cols;
  const src = m.data;
  const out = new Float32Array(count * d);
  const row = new Float64Array(d);
  for (let i = 0; i < count; i++) {
    const s = (r0 + i) * d;
    let sq = 0;
    for (let c = 0; c < d; c++) {
      const v = shift ? src[s + c]! - shift[c]! : src[s + c]!;
      row[c] = v;
      sq += v * v;
    }
    let scale = 1;
    if (normalize) {
      if (!(sq > 0)) throw zeroNorm(name, r0 + i, shift !== null);
      scale = 1 / Math.sqrt(sq);
    }
    const o = i * d;
    for (let c = 0; c < d; c++) out[o + c] = row[c]! * scale;
  }
  return { rows: count, cols: d, data: out };
}

function zeroNorm(name: string, row: number, centered: boolean): RlsaError {
  const what = centered ? `${name} row ${row} has zero norm after centering on the anchor mean` : `${name} row ${row} has zero norm`;
  return new RlsaError('zero_norm', `${what}: cosine and angular similarity need a direction`);
}

function allFinite(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return false;
  return true;
}

/** Σ_c (x[i, c] − shift[c])² in float64, summed in the same order as `prepareRows` (so the scales are identical). */
function shiftedRowSquaredNorms(x: Matrix, shift: Float64Array | null): Float64Array {
  if (shift === null) return rowSquaredNorms(x.data, x.rows, x.cols);
  const { rows, cols: d, data } = x;
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let sq = 0;
    const o = i * d;
    for (let c = 0; c < d; c++) {
      const v = data[o + c]! - shift[c]!;
      sq += v * v;
    }
    out[i] = sq;
  }
  return out;
}

function rowSquaredNorms(data: Float32Array | Float64Array, rows: number, d: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let sq = 0;
    const o = i * d;
    for (let c = 0; c < d; c++) sq += data[o + c]! * data[o + c]!;
    out[i] = sq;
  }
  return out;
}

/** −‖x_i − a_j‖₁ by direct loops over float64 copies of anchor panels (no product form exists). */
function l1Projection(x: Matrix, anchors: Matrix, shift: Float64Array | null, out: Float32Array): void {
  const n = x.rows;
  const a = anchors.rows;
  const d = x.cols;
  const anc = new Float64Array(a * d);
  for (let j = 0; j < a; j++) for (let c = 0; c < d; c++) anc[j * d + c] = anchors.data[j * d + c]! - (shift ? shift[c]! : 0);
  const xi = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < d; c++) xi[c] = x.data[i * d + c]! - (shift ? shift[c]! : 0);
    for (let j = 0; j < a; j++) {
      let s = 0;
      const o = j * d;
      for (let c = 0; c < d; c++) s += Math.abs(xi[c]! - anc[o + c]!);
      out[i * a + j] = -s;
    }
  }
}
