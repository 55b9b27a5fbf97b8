import os from 'node:os';
import { nativeLinalgStatus } from '@rlsa/linalg-native';

/**
 * Register width in bits of each SIMD level a benchmark can report: the native addon's levels
 * (`portable` is C that the compiler auto-vectorises to x86-64's baseline SSE2) and the wasm
 * backend's 128-bit SIMD.
 */
export const SIMD_BITS = { avx512: 512, avx2: 256, portable: 128, 'wasm-simd128': 128 } as const;

export type BenchSimd = keyof typeof SIMD_BITS;

/** The machine a benchmark's figures come from, as every benchmark's JSON records it under `machine`. */
export interface BenchMachine {
  readonly cpuModel: string;
  readonly cpus: number;
  /** The SIMD level the project's kernels ran, or why none is known. */
  readonly simd: string;
  /** Its register width; null when the level is not known. */
  readonly simdBits: number | null;
}

/**
 * CPU model, cores and SIMD of this machine. `simd` is the level the measured kernels ran
 * (the training bench passes its tfjs backend's); by default the native addon's, the level of the
 * kernels of @rlsa/linalg-native that the core and the aggregator use.
 */
export function benchMachine(simd: string = nativeSimd()): BenchMachine {
  const bits = Object.hasOwn(SIMD_BITS, simd) ? SIMD_BITS[simd as BenchSimd] : null;
  return { cpuModel: os.cpus()[0]?.model ?? 'unknown', cpus: os.cpus().length, simd, simdBits: bits };
}

/** The native addon's SIMD level, or why it has none. */
function nativeSimd(): string {
  const native = nativeLinalgStatus();
  return native.available ? native.cpuLevel : 'none (addon not built)';
}
