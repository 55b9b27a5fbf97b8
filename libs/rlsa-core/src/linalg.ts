import { RlsaError } from './errors.ts';
import { assertMatrix, type Matrix } from './matrix.ts';

/**
 * The heavy matrix products of the core, behind an interface so that the core stays pure
 * (no tfjs, no native code) while callers can plug in a faster backend. `jsLinalg` is the
 * default; a tfjs-backed implementation lives outside the core.
 */
export interface Linalg {
  /** C (m×n, Float32) = A (m×k) · Bᵀ (B is n×k): every row of A dotted with every row of B. */
  matmulABt(a: Matrix, b: Matrix): Matrix;
  /**
   * C (k×n, Float64) = Aᵀ (A is m×k) · B (m×n). An implementation may compute in float32
   * within a row block but must accumulate the blocks in float64, so that sums over many
   * rows do not lose precision.
   */
  matmulAtB(a: Matrix, b: Matrix): Matrix;
  /**
   * Optional fused form of `matmulABt`, used by `relativeProjection` (cosine) when present so that
   * the core does not copy, normalise and clamp in JS: writes into `out` (m×n, row-major)
   * clamp(A'·Bᵀ), where A' = (A − 1·aShiftᵀ)·diag(aScale) is computed in float64 and rounded once
   * to float32 — exactly the float32 block the core would otherwise build — and `clamp` bounds
   * every result. Results must match `matmulABt` on that block within float32 rounding.
   */
  matmulABtInto?(a: Matrix, b: Matrix, out: Float32Array, options?: MatmulABtIntoOptions): void;
  /**
   * Optional fused form of `matmulAtB`, used by the linear CKA accumulator when present:
   * acc (k×n, row-major) += (A − 1·aShiftᵀ)ᵀ·(B − 1·bShiftᵀ) with the shifted values computed in
   * float64 and rounded to float32 (as the core's own centring does), and the same accuracy
   * contract as `matmulAtB` (float32 at most within a block of rows, float64 across blocks).
   * A null shift means none. Passing the same matrix and shift twice marks a symmetric product.
   */
  accumulateAtB?(a: Matrix, aShift: Float64Array | null, b: Matrix, bShift: Float64Array | null, acc: Float64Array): void;
  /**
   * Optional 1ᵀ·(A − 1·shiftᵀ): out[c] = Σ_i (A[i, c] − shift[c]) in float64, each term rounded to
   * float32 first when A is float32 (as in the block a float32 backend multiplies); a null shift
   * means none. Used with `accumulateAtB` by linear CKA for its column means and sums.
   */
  columnSums?(a: Matrix, shift: Float64Array | null): Float64Array;
}

/** Options of the optional `Linalg.matmulABtInto`. */
export interface MatmulABtIntoOptions {
  /** Subtracted from every row of A (one value per column) before scaling. */
  readonly aShift?: Float64Array | undefined;
  /** Multiplies row i of A (after the shift), one value per row. */
  readonly aScale?: Float64Array | undefined;
  /** [lo, hi]: every result is clamped to it. */
  readonly clamp?: readonly [number, number] | undefined;
}

/** Rows of A (or B) converted to a float64 panel per step: amortises the conversion over the other operand. */
const PANEL_ROWS = 64;
/** Rows of the reduction dimension per step of `matmulAtB` (a transposed panel is `k × AT_B_BLOCK`). */
const AT_B_BLOCK = 128;
/** Rows of the right operand kept hot in cache while every row quad of the left one passes over them. */
const J_TILE = 32;

/**
 * Multiply-adds of a job below which its products run on `jsLinalg` (float64-accurate, ~1–2
 * GFLOP/s) and above which a fast `Linalg` (native SGEMM, ONNX Runtime, tfjs) pays for its start
 * and its float32 products: one rule for every caller (`rlsa cka`, the trainer, the aggregator's
 * Evaluate), so that they answer the same for the same rows.
 */
export const FAST_LINALG_MIN_WORK = 2e8;

/**
 * Pure-JS `Linalg`: cache-blocked, register-blocked (4×4) dot-product kernels over
 * contiguous float64 panels. Each dot product accumulates in float64 (JS numbers), so the
 * results are float64-accurate before the final store.
 */
export const jsLinalg: Linalg = {
  matmulABt(a: Matrix, b: Matrix): Matrix {
    assertMatrix(a, 'a');
    assertMatrix(b, 'b');
    if (a.cols !== b.cols) throw new RlsaError('shape_mismatch', `matmulABt: a is ${a.rows}×${a.cols}, b is ${b.rows}×${b.cols}`);
    const m = a.rows;
    const n = b.rows;
    const k = a.cols;
    const out = new Float32Array(m * n);
    if (m === 0 || n === 0) return { rows: m, cols: n, data: out };
    const aPanel = new Float64Array(PANEL_ROWS * k);
    const bPanel = new Float64Array(PANEL_ROWS * k);
    const tile = new Float64Array(PANEL_ROWS * PANEL_ROWS);
    for (let i0 = 0; i0 < m; i0 += PANEL_ROWS) {
      const ib = Math.min(PANEL_ROWS, m - i0);
      const ibPad = roundUp4(ib);
      loadRows(a.data, i0, ib, k, aPanel, ibPad);
      for (let j0 = 0; j0 < n; j0 += PANEL_ROWS) {
        const jb = Math.min(PANEL_ROWS, n - j0);
        const jbPad = roundUp4(jb);
        loadRows(b.data, j0, jb, k, bPanel, jbPad);
        tile.fill(0, 0, ibPad * jbPad);
        dotKernel(aPanel, ibPad, bPanel, jbPad, k, tile, jbPad, false);
        for (let i = 0; i < ib; i++) {
          const src = i * jbPad;
          const dst = (i0 + i) * n + j0;
          for (let j = 0; j < jb; j++) out[dst + j] = tile[src + j]!;
        }
      }
    }
    return { rows: m, cols: n, data: out };
  },

  matmulAtB(a: Matrix, b: Matrix): Matrix {
    assertMatrix(a, 'a');
    assertMatrix(b, 'b');
    if (a.rows !== b.rows) throw new RlsaError('shape_mismatch', `matmulAtB: a is ${a.rows}×${a.cols}, b is ${b.rows}×${b.cols}`);
    const m = a.rows;
    const k = a.cols;
    const n = b.cols;
    const symmetric = a === b || (a.data === b.data && a.cols === b.cols);
    const kPad = roundUp4(k);
    const nPad = roundUp4(n);
    const acc = new Float64Array(kPad * nPad);
    const at = new Float64Array(kPad * AT_B_BLOCK);
    const bt = symmetric ? at : new Float64Array(nPad * AT_B_BLOCK);
    for (let r0 = 0; r0 < m; r0 += AT_B_BLOCK) {
      const rb = Math.min(AT_B_BLOCK, m - r0);
      // Transposing a row block makes both operands contiguous along the summed dimension.
      transposeBlock(a.data, r0, rb, k, at, rb);
      if (!symmetric) transposeBlock(b.data, r0, rb, n, bt, rb);
      dotKernel(at, kPad, bt, nPad, rb, acc, nPad, symmetric);
    }
    const out = new Float64Array(k * n);
    for (let p = 0; p < k; p++) {
      for (let q = 0; q < n; q++) {
        out[p * n + q] = symmetric && q < p ? acc[q * nPad + p]! : acc[p * nPad + q]!;
      }
    }
    return { rows: k, cols: n, data: out };
  },
};

function roundUp4(n: number): number {
  return (n + 3) & ~3;
}

/** Copies `count` rows of width k starting at `row0` into a float64 panel of `padRows` rows (padding zeroed). */
function loadRows(src: Float32Array | Float64Array, row0: number, count: number, k: number, panel: Float64Array, padRows: number): void {
  const base = row0 * k;
  for (let t = 0; t < count * k; t++) panel[t] = src[base + t]!;
  panel.fill(0, count * k, padRows * k);
}

/**
 * Writes the transpose of rows [row0, row0 + count) of a `? × width` matrix into `dst`
 * (`roundUp4(width) × stride`, column t of the block becomes row t), padding rows zeroed.
 */
function transposeBlock(src: Float32Array | Float64Array, row0: number, count: number, width: number, dst: Float64Array, stride: number): void {
  for (let r = 0; r < count; r++) {
    const s = (row0 + r) * width;
    for (let c = 0; c < width; c++) dst[c * stride + r] = src[s + c]!;
  }
  dst.fill(0, width * stride, roundUp4(width) * stride);
}

/**
 * out[i·outStride + j] += Σ_t a[i·len + t] · b[j·len + t] for i < aRows, j < bRows (both
 * multiples of 4). With `upperOnly`, only 4×4 tiles with j ≥ i are computed (symmetric AᵀA).
 * 4×4 register blocking: 8 loads feed 16 multiply-adds; j is tiled so a slab of b stays in cache.
 */
function dotKernel(
  a: Float64Array,
  aRows: number,
  b: Float64Array,
  bRows: number,
  len: number,
  out: Float64Array,
  outStride: number,
  upperOnly: boolean,
): void {
  for (let j0 = 0; j0 < bRows; j0 += J_TILE) {
    const jEnd = Math.min(bRows, j0 + J_TILE);
    const iEnd = upperOnly ? Math.min(aRows, jEnd) : aRows;
    for (let i = 0; i < iEnd; i += 4) {
      const a0 = i * len;
      const a1 = a0 + len;
      const a2 = a1 + len;
      const a3 = a2 + len;
      const jStart = upperOnly ? Math.max(j0, i) : j0;
      for (let j = jStart; j < jEnd; j += 4) {
        const b0 = j * len;
        const b1 = b0 + len;
        const b2 = b1 + len;
        const b3 = b2 + len;
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
        let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
        let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (let t = 0; t < len; t++) {
          const x0 = a[a0 + t]!, x1 = a[a1 + t]!, x2 = a[a2 + t]!, x3 = a[a3 + t]!;
          const y0 = b[b0 + t]!, y1 = b[b1 + t]!, y2 = b[b2 + t]!, y3 = b[b3 + t]!;
          c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
          c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
          c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
          c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
        }
        let o = i * outStride + j;
        out[o]! += c00; out[o + 1]! += c01; out[o + 2]! += c02; out[o + 3]! += c03;
        o += outStride;
        out[o]! += c10; out[o + 1]! += c11; out[o + 2]! += c12; out[o + 3]! += c13;
        o += outStride;
        out[o]! += c20; out[o + 1]! += c21; out[o + 2]! += c22; out[o + 3]! += c23;
        o += outStride;
        out[o]! += c30; out[o + 1]! += c31; out[o + 2]! += c32; out[o + 3]! += c33;
      }
    }
  }
}
