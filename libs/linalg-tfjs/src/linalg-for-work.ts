import { FAST_LINALG_MIN_WORK, jsLinalg, type Linalg } from '@rlsa/core';
import { NativeLinalg, nativeLinalgStatus } from '@rlsa/linalg-native';
import { OnnxLinalg } from '@rlsa/linalg-onnx';
import { createTfjsLinalg } from './create-linalg.ts';

/** Which `Linalg` to use: `auto` decides by the size of the work. */
export type LinalgChoice = 'auto' | 'js' | 'tfjs' | 'onnx' | 'native';

export interface ChosenLinalg {
  readonly linalg: Linalg;
  /** `js`, `native-<simd level>` (e.g. `native-avx512`), `onnxruntime-cpu`, or `tfjs-<backend>` (e.g. `tfjs-wasm`). */
  readonly name: string;
  readonly threads: number;
}

/**
 * Multiply-adds above which starting the wasm backend (~0.2 s) pays off against the pure-JS
 * kernels (~1–2 GFLOP/s here): the core's rule for every fast `Linalg`.
 */
export const TFJS_MIN_WORK = FAST_LINALG_MIN_WORK;
/**
 * Multiply-adds above which the threaded wasm build is started: its eight pthread workers take
 * seconds to start on a busy 2-core machine, about what a second thread saves on 5·10¹⁰.
 */
export const TFJS_THREADS_MIN_WORK = 5e10;

/**
 * The `Linalg` for a job of `multiplyAdds` multiply-adds: pure JS for small jobs; above
 * {@link TFJS_MIN_WORK}, the project's own kernels (@rlsa/linalg-native: C SGEMM with the fused
 * centring/normalisation, ~2–4× ONNX Runtime here) when their addon was built, else ONNX Runtime
 * (@rlsa/linalg-onnx: MLAS GEMM) when its binding loads, else tfjs (wasm, threaded for the
 * largest). `choice` (e.g. from the environment variable RLSA_LINALG) forces one side; a forced
 * `native`, `tfjs` or `onnx` sends even the smallest products there (and a forced `native` or
 * `onnx` fails if it cannot load).
 */
export async function linalgForWork(multiplyAdds: number, choice: LinalgChoice = 'auto'): Promise<ChosenLinalg> {
  if (choice === 'js' || (choice === 'auto' && multiplyAdds < TFJS_MIN_WORK)) return { linalg: jsLinalg, name: 'js', threads: 1 };
  if (choice === 'native' || (choice === 'auto' && nativeLinalgStatus().available)) {
    const native = new NativeLinalg();
    return { linalg: native, name: `native-${native.level}`, threads: native.threads };
  }
  if (choice === 'onnx') {
    const onnx = new OnnxLinalg({ minWork: 0 });
    return { linalg: onnx, name: 'onnxruntime-cpu', threads: onnx.threads };
  }
  if (choice === 'auto') {
    try {
      const onnx = new OnnxLinalg();
      return { linalg: onnx, name: 'onnxruntime-cpu', threads: onnx.threads };
    } catch {
      // No native binding for this platform (or it fails to load): the wasm backend runs anywhere.
    }
  }
  const threads = multiplyAdds >= TFJS_THREADS_MIN_WORK ? 2 : 1;
  // Forced tfjs means every product, however small (otherwise tiny ones go to pure JS).
  const { linalg, info } = await createTfjsLinalg(choice === 'tfjs' ? { threads, minWork: 0 } : { threads });
  return { linalg, name: `tfjs-${info.backend}`, threads: info.threads };
}

/** Reads RLSA_LINALG (`auto` when unset); anything else than auto, js, native, tfjs or onnx is refused. */
export function linalgChoiceFromEnv(env: NodeJS.ProcessEnv = process.env): LinalgChoice {
  const value = env['RLSA_LINALG'] ?? 'auto';
  if (value === 'auto' || value === 'js' || value === 'native' || value === 'tfjs' || value === 'onnx') return value;
  throw Object.assign(new Error(`RLSA_LINALG must be auto, js, native, tfjs or onnx, got '${value}'`), { userFacing: true });
}
