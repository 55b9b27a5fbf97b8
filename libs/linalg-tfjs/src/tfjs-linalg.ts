import * as tf from '@tensorflow/tfjs-core';
import { jsLinalg, RlsaError, type Linalg, type Matrix } from '@rlsa/core';

export interface TfjsLinalgOptions {
  /** Rows of A per product in `matmulABt` (bounds the wasm heap used per call). Default 8192. */
  readonly blockRows?: number;
  /**
   * Rows summed in float32 inside one product of `matmulAtB` before the float64 accumulation.
   * Default 8192 (relative rounding error of a float32 sum of n terms grows like √n·2⁻²⁴).
   */
  readonly reduceRows?: number;
  /** Products smaller than this many multiply-adds go to the pure-JS `jsLinalg` (no transfer overhead). Default 2²¹. */
  readonly minWork?: number;
}

/**
 * A `Linalg` on the tfjs backend of this process (the wasm backend: XNNPACK, SIMD, threads).
 *
 * The wasm backend multiplies plain row-major matrices 10–30× faster than it multiplies with a
 * transposed operand flag, so every transpose is done explicitly in JS into a reused buffer
 * and only `matMul(P, Q)` of plain matrices reaches wasm:
 * - `matmulABt`: Bᵀ (k×n) is built and uploaded once and kept while the same B (same data
 *   array, same values: checked) comes back, as `relativeProjection` calls it once per block of
 *   samples with the same anchors; A goes up in row blocks and C (float32) comes back.
 * - `matmulAtB`: each block of `reduceRows` rows gives a float32 product Aᵢᵀ·Bᵢ that is added into
 *   a float64 accumulator; for A = B (Gram matrices) only the upper block triangle is computed.
 *
 * Inputs are never mutated; float64 inputs are rounded to float32 on upload.
 */
export class TfjsLinalg implements Linalg {
  private readonly blockRows: number;
  private readonly reduceRows: number;
  private readonly minWork: number;
  private cachedB: { data: Matrix['data']; copy: Float32Array; rows: number; cols: number; bt: tf.Tensor2D } | null = null;
  private scratch = new Float32Array(0);

  constructor(options: TfjsLinalgOptions = {}) {
    this.blockRows = positiveInteger(options.blockRows ?? 8192, 'blockRows');
    this.reduceRows = positiveInteger(options.reduceRows ?? 8192, 'reduceRows');
    this.minWork = options.minWork ?? 2 ** 21;
  }

  /** C (m×n, Float32) = A (m×k) · Bᵀ (B is n×k). */
  matmulABt(a: Matrix, b: Matrix): Matrix {
    if (a.cols !== b.cols) throw new RlsaError('shape_mismatch', `matmulABt: a is ${a.rows}×${a.cols}, b is ${b.rows}×${b.cols}`);
    const m = a.rows;
    const n = b.rows;
    const k = a.cols;
    if (m * n * k < this.minWork || k === 0) return jsLinalg.matmulABt(a, b);
    const bt = this.transposedB(b);
    if (m <= this.blockRows) {
      // One block (the usual call from relativeProjection): the read-back copy is the result.
      const block = tf.tensor2d(asFloat32(a.data), [m, k], 'float32');
      const product = tf.matMul(block, bt);
      const data = product.dataSync() as Float32Array;
      block.dispose();
      product.dispose();
      return { rows: m, cols: n, data };
    }
    const out = new Float32Array(m * n);
    for (let r0 = 0; r0 < m; r0 += this.blockRows) {
      const rb = Math.min(this.blockRows, m - r0);
      const block = tf.tensor2d(asFloat32(a.data.subarray(r0 * k, (r0 + rb) * k)), [rb, k], 'float32');
      const product = tf.matMul(block, bt);
      out.set(product.dataSync() as Float32Array, r0 * n);
      block.dispose();
      product.dispose();
    }
    return { rows: m, cols: n, data: out };
  }

  /** C (k×n, Float64) = Aᵀ (A is m×k) · B (m×n), float32 within blocks of `reduceRows` rows, float64 across. */
  matmulAtB(a: Matrix, b: Matrix): Matrix {
    if (a.rows !== b.rows) throw new RlsaError('shape_mismatch', `matmulAtB: a is ${a.rows}×${a.cols}, b is ${b.rows}×${b.cols}`);
    const m = a.rows;
    const k = a.cols;
    const n = b.cols;
    if (m * n * k < this.minWork || k === 0 || n === 0) return jsLinalg.matmulAtB(a, b);
    const symmetric = a === b || (a.data === b.data && a.cols === b.cols);
    const acc = new Float64Array(k * n);
    for (let r0 = 0; r0 < m; r0 += this.reduceRows) {
      const rb = Math.min(this.reduceRows, m - r0);
      const at = this.transposeRows(a, r0, rb); // k×rb
      if (symmetric && k >= 2) this.addGram(at, a, r0, rb, acc);
      else this.addProduct(at, k, b, r0, rb, acc);
    }
    if (symmetric && k >= 2) mirrorUpper(acc, k);
    return { rows: k, cols: n, data: acc };
  }

  /** Frees the tensors this instance keeps (the cached Bᵀ). */
  dispose(): void {
    this.cachedB?.bt.dispose();
    this.cachedB = null;
  }

  private transposedB(b: Matrix): tf.Tensor2D {
    const c = this.cachedB;
    // Reused only for the same array holding the same values: a caller may refill one buffer
    // between calls, and comparing n·k values costs far less than the n·k·m product.
    if (c !== null && c.data === b.data && c.rows === b.rows && c.cols === b.cols && sameValues(c.copy, b.data)) return c.bt;
    this.dispose();
    const n = b.rows;
    const k = b.cols;
    const t = new Float32Array(k * n);
    transposeInto(b.data, 0, n, k, t);
    const bt = tf.tensor2d(t, [k, n], 'float32');
    this.cachedB = { data: b.data, copy: Float32Array.from(b.data), rows: n, cols: k, bt };
    return bt;
  }

  /** Rows [r0, r0 + rb) of a (each of width k) transposed into a k×rb Float32Array (a reused buffer). */
  private transposeRows(a: Matrix, r0: number, rb: number): Float32Array {
    const k = a.cols;
    if (this.scratch.length < k * rb) this.scratch = new Float32Array(k * rb);
    const t = this.scratch.subarray(0, k * rb);
    transposeInto(a.data, r0, rb, k, t);
    return t;
  }

  /** acc (k×n) += Aᵢᵀ (k×rb, given as `at`) · Bᵢ (rb×n). */
  private addProduct(at: Float32Array, k: number, b: Matrix, r0: number, rb: number, acc: Float64Array): void {
    const n = b.cols;
    const product = tf.tidy(() => {
      const left = tf.tensor2d(at, [k, rb], 'float32');
      const right = tf.tensor2d(asFloat32(b.data.subarray(r0 * n, (r0 + rb) * n)), [rb, n], 'float32');
      return tf.matMul(left, right);
    });
    addInto(acc, product.dataSync() as Float32Array);
    product.dispose();
  }

  /**
   * acc (k×k, upper block triangle) += Aᵢᵀ·Aᵢ. Splitting the k columns in two halves [0, h) and
   * [h, k): the rows [0, h) of the result need Aᵀ[0:h]·A (h×k) and the rows [h, k) only their
   * right part Aᵀ[h:k]·A[:, h:k] — three quarters of the multiply-adds of the full product.
   */
  private addGram(at: Float32Array, a: Matrix, r0: number, rb: number, acc: Float64Array): void {
    const k = a.cols;
    const h = Math.ceil(k / 2);
    const [top, bottom] = tf.tidy(() => {
      const atTensor = tf.tensor2d(at, [k, rb], 'float32');
      const aBlock = tf.tensor2d(asFloat32(a.data.subarray(r0 * k, (r0 + rb) * k)), [rb, k], 'float32');
      const upper = tf.matMul(tf.slice(atTensor, [0, 0], [h, rb]), aBlock); // h×k
      const lower = tf.matMul(tf.slice(atTensor, [h, 0], [k - h, rb]), tf.slice(aBlock, [0, h], [rb, k - h])); // (k−h)×(k−h)
      return [upper, lower];
    });
    addInto(acc, top!.dataSync() as Float32Array); // rows [0, h), all columns
    const low = bottom!.dataSync() as Float32Array;
    const w = k - h;
    for (let i = 0; i < w; i++) {
      const dst = (h + i) * k + h;
      const src = i * w;
      for (let j = 0; j < w; j++) acc[dst + j]! += low[src + j]!;
    }
    top!.dispose();
    bottom!.dispose();
  }
}

/** Whether `data` rounds to exactly the float32 values in `copy` (same length assumed). */
function sameValues(copy: Float32Array, data: Float32Array | Float64Array): boolean {
  if (data instanceof Float32Array) {
    for (let i = 0; i < copy.length; i++) if (copy[i] !== data[i] && !(Number.isNaN(copy[i]) && Number.isNaN(data[i]))) return false;
    return true;
  }
  for (let i = 0; i < copy.length; i++) if (copy[i] !== Math.fround(data[i]!)) return false;
  return true;
}

function positiveInteger(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new RlsaError('invalid_argument', `${name} must be a positive integer, got ${v}`);
  return v;
}

function asFloat32(data: Float32Array | Float64Array): Float32Array {
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

/**
 * dst (k×rb) = transpose of rows [r0, r0 + rb) of src (row width k). Tiled so that both the
 * reads and the writes stay within a few cache lines per tile.
 */
function transposeInto(src: Float32Array | Float64Array, r0: number, rb: number, k: number, dst: Float32Array): void {
  const T = 32;
  for (let i0 = 0; i0 < rb; i0 += T) {
    const i1 = Math.min(rb, i0 + T);
    for (let j0 = 0; j0 < k; j0 += T) {
      const j1 = Math.min(k, j0 + T);
      for (let i = i0; i < i1; i++) {
        const s = (r0 + i) * k;
        for (let j = j0; j < j1; j++) dst[j * rb + i] = src[s + j]!;
      }
    }
  }
}

/** acc[i] += block[i] for the first block.length entries. */
function addInto(acc: Float64Array, block: Float32Array): void {
  for (let i = 0; i < block.length; i++) acc[i]! += block[i]!;
}

/** Copies the upper triangle of a k×k matrix onto its lower triangle. */
function mirrorUpper(acc: Float64Array, k: number): void {
  for (let i = 1; i < k; i++) for (let j = 0; j < i; j++) acc[i * k + j] = acc[j * k + i]!;
}
