import { RlsaError } from './errors.ts';
import { jsLinalg, type Linalg } from './linalg.ts';
import { assertFinite, assertMatrix, columnMeans, rowSlice, type Matrix } from './matrix.ts';

export interface LinearCkaOptions {
  /** Use the unbiased HSIC estimator of Song et al. (2012) instead of the biased one (the paper's). Default false. */
  readonly debiased?: boolean | undefined;
  /** Backend for the Dx×Dy, Dx×Dx, Dy×Dy products; default `jsLinalg`. */
  readonly linalg?: Linalg | undefined;
  /** Rows per product call: a float32 backend sums at most this many rows before the float64 accumulation. Default 2048. */
  readonly blockRows?: number | undefined;
}

export interface LinearCkaAccumulatorOptions extends LinearCkaOptions {
  /**
   * Column means of x and y if known (even approximately). Rows are shifted by them before
   * the products; the result does not depend on the shift mathematically (HSIC is translation
   * invariant), but a shift close to the true mean avoids cancellation. Default: the column
   * means of the first chunk.
   */
  readonly means?: { readonly x: ArrayLike<number>; readonly y: ArrayLike<number> } | undefined;
}

const DEFAULT_BLOCK_ROWS = 2048;

/**
 * Streaming linear CKA over row chunks of (x, y) (the same samples in the same order in
 * both): after any split into chunks, `value()` equals `linearCka` of the concatenated rows
 * (to ~1e-9 in float64). Memory O(Dx·Dy + Dx² + Dy²) float64.
 *
 * With rows shifted by a fixed vector c (x' = x − cₓ, y' = y − c_y; see `means`) it keeps
 * S_xy = X'ᵀY', S_xx, S_yy, column sums sₓ, s_y, and, for the debiased estimator, the row
 * squared norms rₓ(i) = ‖x'ᵢ‖², r_y(i) through Σ rₓr_y, Σ rₓ², Σ r_y², Σ rₓ, Σ r_y and the
 * vectors Σ r_y(i) x'ᵢ, Σ rₓ(i) x'ᵢ, Σ rₓ(i) y'ᵢ, Σ r_y(i) y'ᵢ.
 *
 * Biased: HSIC ∝ ‖X̄ᵀȲ‖²_F with X̄ᵀȲ = S_xy − sₓs_yᵀ/n (X̄ centered);
 * CKA = ‖X̄ᵀȲ‖²_F / (‖X̄ᵀX̄‖_F ‖ȲᵀȲ‖_F).
 * Debiased (Song et al. 2012, eq. 5, with K = X'X'ᵀ, L = Y'Y'ᵀ and K̃, L̃ their zero-diagonal copies):
 * n(n−3)·HSIC₁ = tr(K̃L̃) + (1ᵀK̃1)(1ᵀL̃1)/((n−1)(n−2)) − 2/(n−2)·1ᵀK̃L̃1, where
 * tr(K̃L̃) = ‖S_xy‖²_F − Σ rₓr_y, 1ᵀK̃1 = ‖sₓ‖² − Σ rₓ, and
 * 1ᵀK̃L̃1 = sₓᵀS_xy s_y − s_y·Σ rₓ(i)y'ᵢ − sₓ·Σ r_y(i)x'ᵢ + Σ rₓr_y.
 * The estimator is invariant to the shift c, so it equals the estimator on the raw data.
 * CKA = HSIC₁(K, L) / √(HSIC₁(K, K) HSIC₁(L, L)); needs n ≥ 4 and may be slightly negative.
 */
export class LinearCkaAccumulator {
  readonly xCols: number;
  readonly yCols: number;
  readonly debiased: boolean;
  private readonly linalg: Linalg;
  private readonly blockRows: number;
  private shiftX: Float64Array | null = null;
  private shiftY: Float64Array | null = null;
  private n = 0;
  private readonly sxy: Float64Array;
  private readonly sxx: Float64Array;
  private readonly syy: Float64Array;
  private readonly sumX: Float64Array;
  private readonly sumY: Float64Array;
  // Debiased-only statistics of the row squared norms.
  private rxry = 0;
  private rxrx = 0;
  private ryry = 0;
  private rxSum = 0;
  private rySum = 0;
  private readonly xByRy: Float64Array;
  private readonly xByRx: Float64Array;
  private readonly yByRx: Float64Array;
  private readonly yByRy: Float64Array;

  constructor(xCols: number, yCols: number, options: LinearCkaAccumulatorOptions = {}) {
    for (const [name, v] of [['xCols', xCols], ['yCols', yCols]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RlsaError('invalid_argument', `${name} must be a positive integer, got ${v}`);
    }
    this.xCols = xCols;
    this.yCols = yCols;
    this.debiased = options.debiased ?? false;
    this.linalg = options.linalg ?? jsLinalg;
    this.blockRows = options.blockRows ?? DEFAULT_BLOCK_ROWS;
    if (!Number.isInteger(this.blockRows) || this.blockRows < 1) {
      throw new RlsaError('invalid_argument', `blockRows must be a positive integer, got ${this.blockRows}`);
    }
    if (options.means) {
      if (options.means.x.length !== xCols || options.means.y.length !== yCols) {
        throw new RlsaError('shape_mismatch', `means have lengths ${options.means.x.length}, ${options.means.y.length}; expected ${xCols}, ${yCols}`);
      }
      this.shiftX = Float64Array.from(options.means.x);
      this.shiftY = Float64Array.from(options.means.y);
      if (!this.shiftX.every(Number.isFinite) || !this.shiftY.every(Number.isFinite)) throw new RlsaError('non_finite', 'means must be finite');
    }
    this.sxy = new Float64Array(xCols * yCols);
    this.sxx = new Float64Array(xCols * xCols);
    this.syy = new Float64Array(yCols * yCols);
    this.sumX = new Float64Array(xCols);
    this.sumY = new Float64Array(yCols);
    this.xByRy = new Float64Array(this.debiased ? xCols : 0);
    this.xByRx = new Float64Array(this.debiased ? xCols : 0);
    this.yByRx = new Float64Array(this.debiased ? yCols : 0);
    this.yByRy = new Float64Array(this.debiased ? yCols : 0);
  }

  /** Adds a chunk: row i of x (m×Dx) and row i of y (m×Dy) are the same sample. Validates before changing state. */
  addRows(x: Matrix, y: Matrix): void {
    assertMatrix(x, 'x');
    assertMatrix(y, 'y');
    if (x.cols !== this.xCols || y.cols !== this.yCols) {
      throw new RlsaError('shape_mismatch', `chunk widths ${x.cols}, ${y.cols}; the accumulator expects ${this.xCols}, ${this.yCols}`);
    }
    if (x.rows !== y.rows) throw new RlsaError('shape_mismatch', `x has ${x.rows} rows, y has ${y.rows}`);
    if (!this.debiased && this.linalg.accumulateAtB !== undefined) {
      this.addRowsFused(x, y, this.linalg.accumulateAtB.bind(this.linalg));
      return;
    }
    assertFinite(x, 'x');
    if (y !== x) assertFinite(y, 'y');
    if (x.rows === 0) return;
    if (this.shiftX === null || this.shiftY === null) {
      this.shiftX = columnMeans(x);
      this.shiftY = y === x ? this.shiftX : columnMeans(y);
    }
    const same = x === y && this.xCols === this.yCols && sameValues(this.shiftX, this.shiftY);
    for (let r0 = 0; r0 < x.rows; r0 += this.blockRows) {
      const rb = Math.min(this.blockRows, x.rows - r0);
      const xb = shiftedBlock(x, r0, rb, this.shiftX);
      const yb = same ? xb : shiftedBlock(y, r0, rb, this.shiftY);
      this.accumulate(xb, yb, same);
    }
  }

  /**
   * `addRows` on a backend with `accumulateAtB` (biased estimator): the backend centres the rows
   * while packing them and adds the products straight into S_xx, S_xy, S_yy, so no shifted copy
   * is made. The core keeps one pass per space: the column sums of the shifted rows, in float64
   * (by `linalg.columnSums` when present), which also serve as the finiteness check (a NaN or ±Inf makes its column's sum non-finite;
   * only then is the slower `assertFinite` run, for its message).
   */
  private addRowsFused(x: Matrix, y: Matrix, accumulateAtB: NonNullable<Linalg['accumulateAtB']>): void {
    if (x.rows === 0) return;
    const shiftX = this.shiftX ?? columnMeans(x);
    const shiftY = this.shiftY ?? (y === x ? shiftX : columnMeans(y));
    const sums = (m: Matrix, shift: Float64Array): Float64Array => {
      const s = this.linalg.columnSums ? this.linalg.columnSums(m, shift) : shiftedColumnSums(m, shift);
      if (s.length !== m.cols) throw new RlsaError('failed_precondition', `linalg.columnSums returned ${s.length} values, expected ${m.cols}`);
      return s;
    };
    const sumX = sums(x, shiftX);
    if (!allFinite(sumX)) assertFinite(x, 'x');
    const sumY = y === x && shiftY === shiftX ? sumX : sums(y, shiftY);
    if (sumY !== sumX && !allFinite(sumY)) assertFinite(y, 'y');
    // Validated: from here on the state changes.
    this.shiftX = shiftX;
    this.shiftY = shiftY;
    const same = x === y && this.xCols === this.yCols && sameValues(shiftX, shiftY);
    const sxx = same ? new Float64Array(this.xCols * this.xCols) : this.sxx;
    for (let r0 = 0; r0 < x.rows; r0 += this.blockRows) {
      const r1 = Math.min(x.rows, r0 + this.blockRows);
      const xb = rowSlice(x, r0, r1);
      accumulateAtB(xb, shiftX, xb, shiftX, sxx);
      if (!same) {
        const yb = rowSlice(y, r0, r1);
        accumulateAtB(xb, shiftX, yb, shiftY, this.sxy);
        accumulateAtB(yb, shiftY, yb, shiftY, this.syy);
      }
    }
    if (same) {
      addInto(this.sxx, sxx);
      addInto(this.sxy, sxx);
      addInto(this.syy, sxx);
    }
    addInto(this.sumX, sumX);
    addInto(this.sumY, sumY);
    this.n += x.rows;
  }

  /** Rows added so far. */
  get rows(): number {
    return this.n;
  }

  /**
   * The CKA of all rows added so far. Throws `failed_precondition` with fewer than 2 rows
   * (4 for the debiased estimator) and `zero_norm` when x or y has no variance (CKA undefined).
   */
  value(): number {
    const n = this.n;
    const minRows = this.debiased ? 4 : 2;
    if (n < minRows) throw new RlsaError('failed_precondition', `linear CKA needs at least ${minRows} rows, got ${n}`);
    if (!this.debiased) {
      const cxy = centeredFrobeniusSquared(this.sxy, this.sumX, this.sumY, n);
      const cxx = centeredFrobeniusSquared(this.sxx, this.sumX, this.sumX, n);
      const cyy = centeredFrobeniusSquared(this.syy, this.sumY, this.sumY, n);
      assertVariance(cxx, cyy);
      return cxy / (Math.sqrt(cxx) * Math.sqrt(cyy));
    }
    const hxy = this.unbiasedHsic(this.sxy, this.sumX, this.sumY, this.rxry, this.rxSum, this.rySum, this.yByRx, this.xByRy);
    const hxx = this.unbiasedHsic(this.sxx, this.sumX, this.sumX, this.rxrx, this.rxSum, this.rxSum, this.xByRx, this.xByRx);
    const hyy = this.unbiasedHsic(this.syy, this.sumY, this.sumY, this.ryry, this.rySum, this.rySum, this.yByRy, this.yByRy);
    assertVariance(hxx, hyy);
    return hxy / (Math.sqrt(hxx) * Math.sqrt(hyy));
  }

  /**
   * n(n−3)·HSIC₁ for Gram matrices K = AAᵀ, L = BBᵀ given S = AᵀB, column sums sa, sb, Σ ra·rb,
   * Σ ra, Σ rb, bByRa = Σ ra(i) bᵢ and aByRb = Σ rb(i) aᵢ (the common factor cancels in CKA).
   */
  private unbiasedHsic(
    s: Float64Array,
    sa: Float64Array,
    sb: Float64Array,
    rarb: number,
    raSum: number,
    rbSum: number,
    bByRa: Float64Array,
    aByRb: Float64Array,
  ): number {
    const n = this.n;
    const p = sa.length;
    const q = sb.length;
    let frob = 0;
    let bilinear = 0;
    for (let i = 0; i < p; i++) {
      let row = 0;
      for (let j = 0; j < q; j++) {
        const v = s[i * q + j]!;
        frob += v * v;
        row += v * sb[j]!;
      }
      bilinear += sa[i]! * row;
    }
    const trace = frob - rarb;
    const oneKOne = dot(sa, sa) - raSum;
    const oneLOne = dot(sb, sb) - rbSum;
    const oneKLOne = bilinear - dot(sb, bByRa) - dot(sa, aByRb) + rarb;
    return trace + (oneKOne * oneLOne) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * oneKLOne;
  }

  private accumulate(xb: Matrix, yb: Matrix, same: boolean): void {
    const pxx = this.linalg.matmulAtB(xb, xb);
    checkProduct(pxx, this.xCols, this.xCols);
    addInto(this.sxx, pxx.data);
    if (same) {
      addInto(this.sxy, pxx.data);
      addInto(this.syy, pxx.data);
    } else {
      const pxy = this.linalg.matmulAtB(xb, yb);
      checkProduct(pxy, this.xCols, this.yCols);
      addInto(this.sxy, pxy.data);
      const pyy = this.linalg.matmulAtB(yb, yb);
      checkProduct(pyy, this.yCols, this.yCols);
      addInto(this.syy, pyy.data);
    }
    const rows = xb.rows;
    const px = this.xCols;
    const py = this.yCols;
    const xd = xb.data;
    const yd = yb.data;
    for (let i = 0; i < rows; i++) {
      let rx = 0;
      for (let c = 0; c < px; c++) {
        const v = xd[i * px + c]!;
        this.sumX[c]! += v;
        rx += v * v;
      }
      let ry = 0;
      for (let c = 0; c < py; c++) {
        const v = yd[i * py + c]!;
        this.sumY[c]! += v;
        ry += v * v;
      }
      if (this.debiased) {
        this.rxry += rx * ry;
        this.rxrx += rx * rx;
        this.ryry += ry * ry;
        this.rxSum += rx;
        this.rySum += ry;
        for (let c = 0; c < px; c++) {
          const v = xd[i * px + c]!;
          this.xByRy[c]! += ry * v;
          this.xByRx[c]! += rx * v;
        }
        for (let c = 0; c < py; c++) {
          const v = yd[i * py + c]!;
          this.yByRx[c]! += rx * v;
          this.yByRy[c]! += ry * v;
        }
      }
    }
    this.n += rows;
  }
}

/** Rows [r0, r0 + count) of m minus `shift`, Float64 for Float64 input, else Float32 (what a float32 backend wants). */
function shiftedBlock(m: Matrix, r0: number, count: number, shift: Float64Array): Matrix {
  const d = m.cols;
  const out = m.data instanceof Float64Array ? new Float64Array(count * d) : new Float32Array(count * d);
  const src = m.data;
  for (let i = 0; i < count; i++) {
    const s = (r0 + i) * d;
    const o = i * d;
    for (let c = 0; c < d; c++) out[o + c] = src[s + c]! - shift[c]!;
  }
  return { rows: count, cols: d, data: out };
}

/**
 * Σ_i (m[i, c] − shift[c]) for every column c, summed in float64; for float32 data each shifted
 * value is first rounded to float32, as in the block a float32 backend multiplies (so the sums
 * agree with the products exactly as on the plain path).
 */
function shiftedColumnSums(m: Matrix, shift: Float64Array): Float64Array {
  const { rows, cols, data } = m;
  const sums = new Float64Array(cols);
  if (data instanceof Float32Array) {
    for (let i = 0; i < rows; i++) {
      const o = i * cols;
      for (let c = 0; c < cols; c++) sums[c]! += Math.fround(data[o + c]! - shift[c]!);
    }
  } else {
    for (let i = 0; i < rows; i++) {
      const o = i * cols;
      for (let c = 0; c < cols; c++) sums[c]! += data[o + c]! - shift[c]!;
    }
  }
  return sums;
}

function allFinite(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return false;
  return true;
}

/** ‖S − sa sbᵀ/n‖²_F: the squared Frobenius norm of the centered cross-product. */
function centeredFrobeniusSquared(s: Float64Array, sa: Float64Array, sb: Float64Array, n: number): number {
  const q = sb.length;
  let total = 0;
  for (let i = 0; i < sa.length; i++) {
    const ai = sa[i]! / n;
    for (let j = 0; j < q; j++) {
      const v = s[i * q + j]! - ai * sb[j]!;
      total += v * v;
    }
  }
  return total;
}

function assertVariance(hxx: number, hyy: number): void {
  if (!(hxx > 0)) throw new RlsaError('zero_norm', 'x has no variance across the rows (constant columns): CKA is undefined');
  if (!(hyy > 0)) throw new RlsaError('zero_norm', 'y has no variance across the rows (constant columns): CKA is undefined');
}

function checkProduct(p: Matrix, rows: number, cols: number): void {
  if (p.rows !== rows || p.cols !== cols || p.data.length !== rows * cols) {
    throw new RlsaError('failed_precondition', `linalg.matmulAtB returned ${p.rows}×${p.cols}, expected ${rows}×${cols}`);
  }
}

function addInto(acc: Float64Array, v: Float32Array | Float64Array): void {
  for (let t = 0; t < acc.length; t++) acc[t]! += v[t]!;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function sameValues(a: Float64Array, b: Float64Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
