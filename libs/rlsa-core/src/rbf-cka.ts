import { RlsaError } from './errors.ts';
import { jsLinalg, type Linalg } from './linalg.ts';
import { assertFinite, assertMatrix, columnMeans, rowSlice, type Matrix } from './matrix.ts';

/**
 * Largest N that `rbfCka` accepts. It stores the N(N−1)/2 squared pairwise distances of
 * each space as float32 (≈ 4·N² bytes for both, 400 MB at the limit) and does O(N²·D) work.
 */
export const RBF_CKA_MAX_ROWS = 10_000;

export interface RbfCkaOptions {
  /** Unbiased HSIC (Song et al. 2012) instead of the biased estimator. Default false. */
  readonly debiased?: boolean | undefined;
  /** Bandwidth σ = sigmaScale × (median pairwise distance). Default 1. */
  readonly sigmaScale?: number | undefined;
  /** Backend for the Gram products behind the pairwise distances; default `jsLinalg`. */
  readonly linalg?: Linalg | undefined;
}

const BLOCK_ROWS = 512;

/**
 * RBF-kernel CKA between x (N×Dx) and y (N×Dy): K_ij = exp(−‖xᵢ − xⱼ‖² / (2σₓ²)), with
 * σₓ = sigmaScale · median_{i<j} ‖xᵢ − xⱼ‖ (the median over distinct pairs, the diagonal
 * excluded; NumPy's median convention, the mean of the two middle values for an even count);
 * L likewise for y. CKA = HSIC(K, L) / √(HSIC(K, K) HSIC(L, L)) with the biased
 * HSIC ∝ tr(KHLH), H = I − 11ᵀ/N, or the unbiased estimator of Song et al. (2012).
 * Distances use ‖a‖² + ‖b‖² − 2⟨a, b⟩ on column-centered float32 rows (clamped at 0), so
 * kernel values are float32-accurate (~1e-6).
 *
 * Throws `too_large` above {@link RBF_CKA_MAX_ROWS} rows (before any allocation),
 * `shape_mismatch`, `invalid_argument` (too few rows, bad sigmaScale), `non_finite`, and
 * `zero_norm` when the median pairwise distance is 0.
 */
export function rbfCka(x: Matrix, y: Matrix, options: RbfCkaOptions = {}): number {
  assertMatrix(x, 'x');
  assertMatrix(y, 'y');
  if (x.rows !== y.rows) throw new RlsaError('shape_mismatch', `x has ${x.rows} rows, y has ${y.rows}: CKA compares the same samples`);
  const n = x.rows;
  if (n > RBF_CKA_MAX_ROWS) {
    throw new RlsaError('too_large', `RBF CKA accepts at most ${RBF_CKA_MAX_ROWS} rows (it is O(N²) in memory), got ${n}; use linear CKA or subsample`);
  }
  const debiased = options.debiased ?? false;
  const minRows = debiased ? 4 : 2;
  if (n < minRows) throw new RlsaError('invalid_argument', `RBF CKA needs at least ${minRows} rows, got ${n}`);
  if (x.cols === 0 || y.cols === 0) throw new RlsaError('invalid_argument', 'x and y need at least one column');
  const sigmaScale = options.sigmaScale ?? 1;
  if (!Number.isFinite(sigmaScale) || sigmaScale <= 0) throw new RlsaError('invalid_argument', `sigmaScale must be finite and > 0, got ${sigmaScale}`);
  assertFinite(x, 'x');
  assertFinite(y, 'y');
  const linalg = options.linalg ?? jsLinalg;

  const dx = pairwiseSquaredDistances(x, linalg);
  const dy = y === x ? dx : pairwiseSquaredDistances(y, linalg);
  const gx = -1 / (2 * (sigmaScale * medianDistance(dx, 'x')) ** 2);
  const gy = -1 / (2 * (sigmaScale * medianDistance(dy, 'y')) ** 2);

  // One pass over the pairs i < j: off-diagonal row sums and the element-wise products.
  const rowK = new Float64Array(n);
  const rowL = new Float64Array(n);
  let kl = 0;
  let kk = 0;
  let ll = 0;
  let t = 0;
  for (let i = 0; i < n; i++) {
    let ri = 0;
    let si = 0;
    for (let j = i + 1; j < n; j++, t++) {
      const k = Math.exp(gx * dx[t]!);
      const l = Math.exp(gy * dy[t]!);
      ri += k;
      si += l;
      rowK[j]! += k;
      rowL[j]! += l;
      kl += k * l;
      kk += k * k;
      ll += l * l;
    }
    rowK[i]! += ri;
    rowL[i]! += si;
  }
  const hsic = debiased ? unbiasedHsic : biasedHsic;
  const hxy = hsic(n, 2 * kl, rowK, rowL);
  const hxx = hsic(n, 2 * kk, rowK, rowK);
  const hyy = hsic(n, 2 * ll, rowL, rowL);
  if (!(hxx > 0) || !(hyy > 0)) throw new RlsaError('zero_norm', 'a kernel matrix has no variance: CKA is undefined');
  return hxy / (Math.sqrt(hxx) * Math.sqrt(hyy));
}

/**
 * N²·HSIC_b = tr(KHLH) for kernels with unit diagonal, from Σ_{i≠j} K∘L (`offKL`) and the
 * off-diagonal row sums: tr(KL) − (2/N) 1ᵀKL1 + (1ᵀK1)(1ᵀL1)/N².
 */
function biasedHsic(n: number, offKL: number, offRowK: Float64Array, offRowL: Float64Array): number {
  let kLrow = 0;
  let sk = 0;
  let sl = 0;
  for (let i = 0; i < n; i++) {
    const a = 1 + offRowK[i]!;
    const b = 1 + offRowL[i]!;
    kLrow += a * b;
    sk += a;
    sl += b;
  }
  return n + offKL - (2 / n) * kLrow + (sk * sl) / (n * n);
}

/** n(n−3)·HSIC₁ (Song et al. 2012): tr(K̃L̃) + (1ᵀK̃1)(1ᵀL̃1)/((n−1)(n−2)) − 2/(n−2)·1ᵀK̃L̃1, K̃ = K with zero diagonal. */
function unbiasedHsic(n: number, offKL: number, offRowK: Float64Array, offRowL: Float64Array): number {
  let kLrow = 0;
  let sk = 0;
  let sl = 0;
  for (let i = 0; i < n; i++) {
    kLrow += offRowK[i]! * offRowL[i]!;
    sk += offRowK[i]!;
    sl += offRowL[i]!;
  }
  return offKL + (sk * sl) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * kLrow;
}

/** ‖xᵢ − xⱼ‖² for i < j in row-major pair order, as float32 (column-centered first to limit cancellation). */
function pairwiseSquaredDistances(x: Matrix, linalg: Linalg): Float32Array {
  const n = x.rows;
  const d = x.cols;
  const mean = columnMeans(x);
  const centered = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) centered[i * d + c] = x.data[i * d + c]! - mean[c]!;
  const xc: Matrix = { rows: n, cols: d, data: centered };
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += centered[i * d + c]! * centered[i * d + c]!;
    sq[i] = s;
  }
  const out = new Float32Array((n * (n - 1)) / 2);
  let t = 0;
  for (let i0 = 0; i0 < n; i0 += BLOCK_ROWS) {
    const ib = Math.min(BLOCK_ROWS, n - i0);
    const g = linalg.matmulABt(rowSlice(xc, i0, i0 + ib), rowSlice(xc, i0, n)).data;
    const width = n - i0;
    for (let i = 0; i < ib; i++) {
      const gi = i * width;
      const si = sq[i0 + i]!;
      for (let j = i0 + i + 1; j < n; j++, t++) {
        const v = si + sq[j]! - 2 * g[gi + (j - i0)]!;
        out[t] = v > 0 ? v : 0;
      }
    }
  }
  return out;
}

/** Median of the distances √v over the squared distances v (non-negative float32), by two-pass radix selection. */
function medianDistance(sq: Float32Array, name: string): number {
  const m = sq.length;
  const lo = Math.floor((m - 1) / 2);
  const hi = Math.floor(m / 2);
  const median = (Math.sqrt(kthSmallest(sq, lo)) + Math.sqrt(kthSmallest(sq, hi))) / 2;
  if (!(median > 0)) throw new RlsaError('zero_norm', `the median pairwise distance of ${name} is 0 (most rows coincide): the RBF bandwidth is undefined`);
  return median;
}

/**
 * k-th smallest (0-based) of non-negative float32 values without copying or sorting: their
 * IEEE bit patterns order like the values, so a 16-bit histogram on the high half and then
 * on the low half (within the chosen bucket) pins the exact value in two passes.
 */
function kthSmallest(values: Float32Array, k: number): number {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const hist = new Uint32Array(65536);
  for (let t = 0; t < bits.length; t++) hist[bits[t]! >>> 16]!++;
  let high = 0;
  let before = 0;
  while (before + hist[high]! <= k) before += hist[high++]!;
  hist.fill(0);
  for (let t = 0; t < bits.length; t++) {
    const b = bits[t]!;
    if (b >>> 16 === high) hist[b & 0xffff]!++;
  }
  let low = 0;
  while (before + hist[low]! <= k) before += hist[low++]!;
  const out = new Uint32Array([((high << 16) | low) >>> 0]);
  return new Float32Array(out.buffer)[0]!;
}
