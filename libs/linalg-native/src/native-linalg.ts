import { RlsaError, type Linalg, type MatmulABtIntoOptions, type Matrix } from '@rlsa/core';
import { loadAddon, type NativeAddon, type SimdLevel } from './addon.ts';
import { resolveNativeThreads, resolveSimdLevel } from './native-options.ts';
import { callNative } from './native-errors.ts';

export interface NativeLinalgOptions {
  /** Threads per product (at most 64). Default: RLSA_NATIVE_THREADS if set, else the number of CPUs. */
  readonly threads?: number;
  /**
   * SIMD path of the kernels. Default: RLSA_NATIVE_SIMD if set, else the best this CPU supports.
   * Forcing a lower level runs (and tests) the AVX2 or portable kernels on an AVX-512 machine;
   * a level above the CPU's is refused with `failed_precondition`.
   */
  readonly level?: SimdLevel;
}

/**
 * A `Linalg` on the project's own C kernels (packed, register-blocked SGEMM; AVX-512, AVX2+FMA or
 * portable, chosen at run time; pthreads). Synchronous, like every `Linalg`.
 * - `matmulABt`: float32 products accumulated in float32 (fused multiply-add), float32 result.
 * - `matmulAtB`: float32 sums over blocks of 256 rows, added into a float64 result; AᵀA (same
 *   data) computes the upper block triangle only.
 * - The optional capabilities `matmulABtInto` (shift/scale rows while packing, clamp, write in
 *   place), `accumulateAtB` (shift columns while packing, add into a float64 accumulator) and
 *   `columnSums` (1ᵀ·(A − shift), vectorised) remove the core's JS prologues; the core uses them
 *   when present.
 * Throws `failed_precondition` when the addon is unavailable (see `nativeLinalgStatus`).
 */
export class NativeLinalg implements Linalg {
  readonly threads: number;
  readonly level: SimdLevel;
  private readonly addon: NativeAddon;

  constructor(options: NativeLinalgOptions = {}, env: NodeJS.ProcessEnv = process.env) {
    const { addon, status } = loadAddon();
    if (addon === null || !status.available) {
      throw new RlsaError('failed_precondition', `@rlsa/linalg-native is unavailable: ${status.available ? 'unknown' : status.reason}`);
    }
    this.addon = addon;
    this.threads = resolveNativeThreads(options.threads, env);
    this.level = resolveSimdLevel(options.level, status, env);
  }

  /** C (m×n, Float32) = A (m×k) · Bᵀ (B is n×k). */
  matmulABt(a: Matrix, b: Matrix): Matrix {
    checkMatrix(a, 'a');
    checkMatrix(b, 'b');
    if (a.cols !== b.cols) throw new RlsaError('shape_mismatch', `matmulABt: a is ${a.rows}×${a.cols}, b is ${b.rows}×${b.cols}`);
    const out = new Float32Array(a.rows * b.rows);
    this.call(() => this.addon.gemmAbt(a.data, a.rows, a.cols, b.data, b.rows, out, null, null, null, null, this.threads, this.level));
    return { rows: a.rows, cols: b.rows, data: out };
  }

  /** C (k×n, Float64) = Aᵀ (A is m×k) · B (m×n): float32 within blocks of 256 rows, float64 across. */
  matmulAtB(a: Matrix, b: Matrix): Matrix {
    checkMatrix(a, 'a');
    checkMatrix(b, 'b');
    if (a.rows !== b.rows) throw new RlsaError('shape_mismatch', `matmulAtB: a is ${a.rows}×${a.cols}, b is ${b.rows}×${b.cols}`);
    const out = new Float64Array(a.cols * b.cols);
    const symmetric = sameData(a, b);
    this.call(() => this.addon.gemmAtb(a.data, a.rows, a.cols, b.data, b.cols, out, null, null, symmetric, this.threads, this.level));
    return { rows: a.cols, cols: b.cols, data: out };
  }

  /** out (m×n) = clamp(((A − shift)·diag(scale) rounded to float32) · Bᵀ): see `Linalg.matmulABtInto`. */
  matmulABtInto(a: Matrix, b: Matrix, out: Float32Array, options: MatmulABtIntoOptions = {}): void {
    checkMatrix(a, 'a');
    checkMatrix(b, 'b');
    if (a.cols !== b.cols) throw new RlsaError('shape_mismatch', `matmulABtInto: a is ${a.rows}×${a.cols}, b is ${b.rows}×${b.cols}`);
    if (!(out instanceof Float32Array)) throw new RlsaError('invalid_argument', 'matmulABtInto: out must be a Float32Array');
    if (out.length !== a.rows * b.rows) throw new RlsaError('shape_mismatch', `matmulABtInto: out holds ${out.length} values, expected ${a.rows}×${b.rows}`);
    const { aShift, aScale, clamp } = options;
    checkVector(aShift, a.cols, 'aShift');
    checkVector(aScale, a.rows, 'aScale');
    if (clamp !== undefined && !(clamp[0] <= clamp[1])) throw new RlsaError('invalid_argument', `matmulABtInto: clamp [${clamp[0]}, ${clamp[1]}] is empty`);
    this.call(() =>
      this.addon.gemmAbt(a.data, a.rows, a.cols, b.data, b.rows, out, aShift ?? null, aScale ?? null, clamp?.[0] ?? null, clamp?.[1] ?? null, this.threads, this.level),
    );
  }

  /** acc (k×n) += (A − 1·aShiftᵀ)ᵀ·(B − 1·bShiftᵀ): see `Linalg.accumulateAtB`. */
  accumulateAtB(a: Matrix, aShift: Float64Array | null, b: Matrix, bShift: Float64Array | null, acc: Float64Array): void {
    checkMatrix(a, 'a');
    checkMatrix(b, 'b');
    if (a.rows !== b.rows) throw new RlsaError('shape_mismatch', `accumulateAtB: a is ${a.rows}×${a.cols}, b is ${b.rows}×${b.cols}`);
    if (!(acc instanceof Float64Array)) throw new RlsaError('invalid_argument', 'accumulateAtB: acc must be a Float64Array');
    if (acc.length !== a.cols * b.cols) throw new RlsaError('shape_mismatch', `accumulateAtB: acc holds ${acc.length} values, expected ${a.cols}×${b.cols}`);
    checkVector(aShift ?? undefined, a.cols, 'aShift');
    checkVector(bShift ?? undefined, b.cols, 'bShift');
    const symmetric = sameData(a, b) && sameShift(aShift, bShift);
    this.call(() => this.addon.gemmAtb(a.data, a.rows, a.cols, b.data, b.cols, acc, aShift, symmetric ? aShift : bShift, symmetric, this.threads, this.level));
  }

  /** Σ_i (m[i, c] − shift[c]) per column, float64 (float32-rounded terms for float32 m): see `Linalg.columnSums`. */
  columnSums(m: Matrix, shift: Float64Array | null): Float64Array {
    checkMatrix(m, 'm');
    checkVector(shift ?? undefined, m.cols, 'shift');
    return this.call(() => this.addon.columnSums(m.data, m.rows, m.cols, shift, this.threads, this.level));
  }

  /** Runs an addon call, turning its coded errors into RlsaErrors. */
  private call<T>(fn: () => T): T {
    return callNative(fn);
  }
}

function checkMatrix(x: Matrix, name: string): void {
  if (x === null || typeof x !== 'object' || !(x.data instanceof Float32Array || x.data instanceof Float64Array)) {
    throw new RlsaError('invalid_argument', `${name} is not a Matrix with Float32Array or Float64Array data`);
  }
  if (!Number.isInteger(x.rows) || !Number.isInteger(x.cols) || x.rows < 0 || x.cols < 0) {
    throw new RlsaError('invalid_argument', `${name} has bad dimensions ${x.rows}×${x.cols}`);
  }
  if (x.data.length !== x.rows * x.cols) throw new RlsaError('shape_mismatch', `${name} is ${x.rows}×${x.cols} but holds ${x.data.length} values`);
}

function checkVector(v: Float64Array | undefined, length: number, name: string): void {
  if (v === undefined) return;
  if (!(v instanceof Float64Array)) throw new RlsaError('invalid_argument', `${name} must be a Float64Array`);
  if (v.length !== length) throw new RlsaError('shape_mismatch', `${name} has ${v.length} values, expected ${length}`);
}

/** The same elements (same array, or views of the same bytes): AᵀA then needs only its upper triangle. */
function sameData(a: Matrix, b: Matrix): boolean {
  if (a.cols !== b.cols || a.rows !== b.rows) return false;
  if (a.data === b.data) return true;
  return (
    a.data.constructor === b.data.constructor &&
    a.data.buffer === b.data.buffer &&
    a.data.byteOffset === b.data.byteOffset &&
    a.data.length === b.data.length
  );
}

function sameShift(a: Float64Array | null, b: Float64Array | null): boolean {
  if (a === b) return true;
  if (a === null || b === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
