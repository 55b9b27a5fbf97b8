import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** SIMD levels of the kernels, in increasing order. */
export type SimdLevel = 'portable' | 'avx2' | 'avx512';
export const SIMD_LEVELS: readonly SimdLevel[] = ['portable', 'avx2', 'avx512'];

/** The functions of the compiled addon (src/native/binding.c). */
export interface NativeAddon {
  cpuLevel(): SimdLevel;
  gemmAbt(
    a: Float32Array | Float64Array,
    m: number,
    k: number,
    b: Float32Array | Float64Array,
    n: number,
    out: Float32Array,
    aShift: Float64Array | null,
    aScale: Float64Array | null,
    clampLo: number | null,
    clampHi: number | null,
    threads: number,
    level: SimdLevel,
  ): void;
  gemmAtb(
    a: Float32Array | Float64Array,
    m: number,
    k: number,
    b: Float32Array | Float64Array,
    n: number,
    out: Float64Array,
    aShift: Float64Array | null,
    bShift: Float64Array | null,
    symmetric: boolean,
    threads: number,
    level: SimdLevel,
  ): void;
  columnSums(a: Float32Array | Float64Array, m: number, k: number, shift: Float64Array | null, threads: number, level: SimdLevel): Float64Array;
  adviseHugePages(view: ArrayBufferView): void;
  addFloat32ToFloat64(sums: Float64Array, sumsOffset: number, values: Float32Array, valuesOffset: number, count: number): void;
  // The ingest's copy-and-check (src/native/ingest.c); see ingest-kernels.ts.
  copyFiniteFloat32(src: ArrayBufferView, dst: ArrayBufferView, count: number): number;
  // The training kernels (src/native/binding-train.c); see training-kernels.ts.
  conv2dForward(x: Float32Array, filter: Float32Array, bias: Float32Array | null, y: Float32Array, geometry: Int32Array, threads: number, level: SimdLevel): void;
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, geometry: Int32Array, threads: number, level: SimdLevel): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, geometry: Int32Array, threads: number, level: SimdLevel): void;
  matmul(a: Float32Array, b: Float32Array, bias: Float32Array | null, c: Float32Array, dims: Int32Array, threads: number, level: SimdLevel): void;
  silu(x: Float32Array, y: Float32Array | null, s: Float32Array, threads: number, level: SimdLevel): void;
  siluGrad(dy: Float32Array, s: Float32Array, x: Float32Array, dx: Float32Array, threads: number, level: SimdLevel): void;
  maxPool(x: Float32Array, y: Float32Array, geometry: Int32Array, threads: number, level: SimdLevel): void;
  maxPoolGrad(x: Float32Array, dy: Float32Array, dx: Float32Array, geometry: Int32Array, threads: number, level: SimdLevel): void;
  sumRows(x: Float32Array, rows: number, cols: number, out: Float32Array, threads: number, level: SimdLevel): void;
}

/** Whether the addon loads here, and why not. */
export type NativeStatus =
  | { readonly available: true; readonly path: string; readonly cpuLevel: SimdLevel }
  | { readonly available: false; readonly reason: string };

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Where node-gyp puts the addon (`npm ci` builds it through this package's install script). */
export const ADDON_PATH = path.join(packageRoot, 'build', 'Release', 'rlsa_linalg_native.node');
const STATUS_PATH = path.join(packageRoot, 'build', 'addon-status.json');

let cached: { addon: NativeAddon; status: NativeStatus } | { addon: null; status: NativeStatus } | null = null;

/**
 * Loads the addon once; never throws (an unavailable addon is a status, not an error).
 * RLSA_NATIVE_DISABLE=1 in the environment makes it unavailable, as if it had not been built
 * (every caller then takes its fallback: to compare both, or to rule the native code out).
 */
export function loadAddon(): { addon: NativeAddon | null; status: NativeStatus } {
  if (cached !== null) return cached;
  if (process.env['RLSA_NATIVE_DISABLE'] === '1') {
    cached = { addon: null, status: { available: false, reason: 'turned off by RLSA_NATIVE_DISABLE=1' } };
    return cached;
  }
  if (!existsSync(ADDON_PATH)) {
    cached = { addon: null, status: { available: false, reason: `the addon was not built (${buildReason()})` } };
    return cached;
  }
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
    cached = { addon, status: { available: true, path: ADDON_PATH, cpuLevel: addon.cpuLevel() } };
  } catch (error) {
    cached = { addon: null, status: { available: false, reason: `the addon does not load: ${(error as Error).message}` } };
  }
  return cached;
}

/** Whether @rlsa/linalg-native can run here (built and loadable), with the reason when not. */
export function nativeLinalgStatus(): NativeStatus {
  return loadAddon().status;
}

function buildReason(): string {
  try {
    const status = JSON.parse(readFileSync(STATUS_PATH, 'utf8')) as { reason?: unknown };
    return `install step: ${String(status.reason)}`;
  } catch {
    return 'no install step recorded; run `npm rebuild @rlsa/linalg-native` or `node libs/linalg-native/scripts/build-addon.mjs`';
  }
}
