import { loadAddon, type NativeAddon, type SimdLevel } from './addon.ts';
import { callNative } from './native-errors.ts';
import { resolveNativeThreads, resolveSimdLevel } from './native-options.ts';

/**
 * A 2-D convolution's geometry (NHWC input [batch, inH, inW, inC], filter [fh, fw, inC, outC],
 * output [batch, outH, outW, outC], no dilation), in this order:
 * [batch, inH, inW, inC, outH, outW, outC, fh, fw, strideH, strideW, padTop, padLeft].
 * The output pixel (oy, ox) reads input rows oy·strideH + ky − padTop (zero outside the image).
 */
export type ConvGeometry = Int32Array;
export const CONV_GEOMETRY_LENGTH = 13;

/** [batch, batchA, batchB, m, n, k, transposeA (0|1), transposeB (0|1)], batchA and batchB 1 or batch. */
export type MatmulDims = Int32Array;

export interface NativeTrainingKernelOptions {
  /** Threads per call, at most (default: RLSA_NATIVE_THREADS, else the CPUs available; at most 64); small calls use fewer (one per ~8·10⁶ multiply-adds or ~2.6·10⁵ elements), since waking a thread on a loaded machine can cost more than the work. */
  readonly threads?: number;
  /** SIMD path (default: RLSA_NATIVE_SIMD, else the best this CPU supports). */
  readonly level?: SimdLevel;
}

/**
 * The addon's training kernels with the thread count and SIMD level fixed once. Every tensor is a
 * Float32Array of exactly its shape's size (the tfjs wasm backend passes views of its heap, made
 * after its last allocation of the call); outputs are written whole and must not overlap inputs.
 * Sums are float32 fused multiply-adds in reduction order, except the filter gradient's (below).
 */
export interface NativeTrainingKernels {
  readonly threads: number;
  readonly level: SimdLevel;
  /** y [batch, outH, outW, outC] = conv(x, filter) + bias (bias [outC] or null). */
  conv2d(x: Float32Array, filter: Float32Array, bias: Float32Array | null, y: Float32Array, geometry: ConvGeometry): void;
  /** dx [batch, inH, inW, inC] = the gradient of Σ conv(x, filter)·dy with respect to x. */
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, geometry: ConvGeometry): void;
  /**
   * dw [fh, fw, inC, outC] = the gradient with respect to the filter: float32 sums over blocks of
   * 512 output pixels, added in float64; the same result for any thread count.
   */
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, geometry: ConvGeometry): void;
  /** c[i] (m×n) = op(a[i]) · op(b[i]) + bias (bias [n] or null; op = transpose when asked), see MatmulDims. */
  matmul(a: Float32Array, b: Float32Array, bias: Float32Array | null, c: Float32Array, dims: MatmulDims): void;
  /**
   * s = sigmoid(x) = 1 / (1 + e^−x) and y = x·s (SiLU; y may be null): e^x by Cephes' expf
   * polynomial (within 2 ulp), inputs clamped to [−87.3, 88.3].
   */
  silu(x: Float32Array, y: Float32Array | null, s: Float32Array): void;
  /** dx = dy · s · (1 + x · (1 − s)): the SiLU gradient from the saved sigmoid s. */
  siluGrad(dy: Float32Array, s: Float32Array, x: Float32Array, dx: Float32Array): void;
  /**
   * Max pooling: y = the largest value of each window (NaN and padding ignored; −∞ for an empty
   * window). The geometry is a convolution's with the window as the filter and inC = outC.
   */
  maxPool(x: Float32Array, y: Float32Array, geometry: ConvGeometry): void;
  /** Its gradient: each window's dy added at its first largest value (row-major), as tfjs's cpu backend. */
  maxPoolGrad(x: Float32Array, dy: Float32Array, dx: Float32Array, geometry: ConvGeometry): void;
  /** out[c] = Σ_r x[r, c] for x [rows, cols]: float64 sums over 8 fixed ranges of rows, added in order. */
  sumRows(x: Float32Array, rows: number, cols: number, out: Float32Array): void;
}

/**
 * The training kernels, or null when the addon is unavailable here (see `nativeLinalgStatus` for
 * why). Bad options throw as `NativeLinalg`'s do.
 */
export function nativeTrainingKernels(options: NativeTrainingKernelOptions = {}, env: NodeJS.ProcessEnv = process.env): NativeTrainingKernels | null {
  const { addon, status } = loadAddon();
  if (addon === null || !status.available) return null;
  const threads = resolveNativeThreads(options.threads, env);
  const level = resolveSimdLevel(options.level, status, env);
  return bindKernels(addon, threads, level);
}

function bindKernels(addon: NativeAddon, threads: number, level: SimdLevel): NativeTrainingKernels {
  return {
    threads,
    level,
    conv2d: (x, filter, bias, y, geometry) => callNative(() => addon.conv2dForward(x, filter, bias, y, geometry, threads, level)),
    conv2dBackpropInput: (dy, filter, dx, geometry) => callNative(() => addon.conv2dBackpropInput(dy, filter, dx, geometry, threads, level)),
    conv2dBackpropFilter: (x, dy, dw, geometry) => callNative(() => addon.conv2dBackpropFilter(x, dy, dw, geometry, threads, level)),
    matmul: (a, b, bias, c, dims) => callNative(() => addon.matmul(a, b, bias, c, dims, threads, level)),
    silu: (x, y, s) => callNative(() => addon.silu(x, y, s, threads, level)),
    siluGrad: (dy, s, x, dx) => callNative(() => addon.siluGrad(dy, s, x, dx, threads, level)),
    maxPool: (x, y, geometry) => callNative(() => addon.maxPool(x, y, geometry, threads, level)),
    maxPoolGrad: (x, dy, dx, geometry) => callNative(() => addon.maxPoolGrad(x, dy, dx, geometry, threads, level)),
    sumRows: (x, rows, cols, out) => callNative(() => addon.sumRows(x, rows, cols, out, threads, level)),
  };
}
