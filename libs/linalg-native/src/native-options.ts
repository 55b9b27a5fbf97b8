import os from 'node:os';
import { RlsaError } from '@rlsa/core';
import { SIMD_LEVELS, type NativeStatus, type SimdLevel } from './addon.ts';

/** Most threads one native call may use (the pool's bound in src/native/pool.h). */
export const MAX_NATIVE_THREADS = 64;

/**
 * Threads of the native kernels: the option if given, else RLSA_NATIVE_THREADS if set, else the
 * CPUs this process may use (`os.availableParallelism()`), at most MAX_NATIVE_THREADS.
 * Throws `invalid_argument` for anything but an integer in [1, MAX_NATIVE_THREADS].
 */
export function resolveNativeThreads(threads: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = env['RLSA_NATIVE_THREADS'];
  const value = threads ?? (fromEnv !== undefined ? Number(fromEnv) : Math.min(MAX_NATIVE_THREADS, Math.max(1, os.availableParallelism())));
  if (!Number.isInteger(value) || value < 1) throw new RlsaError('invalid_argument', `threads must be a positive integer, got ${value}`);
  if (value > MAX_NATIVE_THREADS) throw new RlsaError('invalid_argument', `threads must be at most ${MAX_NATIVE_THREADS}, got ${value}`);
  return value;
}

/**
 * SIMD path of the kernels: the option if given, else RLSA_NATIVE_SIMD if set, else the best this
 * CPU supports. Forcing a lower level runs (and tests) the AVX2 or portable kernels on an AVX-512
 * machine; an unknown level is `invalid_argument`, a level above the CPU's `failed_precondition`.
 */
export function resolveSimdLevel(
  level: SimdLevel | undefined,
  status: Extract<NativeStatus, { available: true }>,
  env: NodeJS.ProcessEnv = process.env,
): SimdLevel {
  const wanted = level ?? env['RLSA_NATIVE_SIMD'] ?? status.cpuLevel;
  if (!SIMD_LEVELS.includes(wanted as SimdLevel)) {
    throw new RlsaError('invalid_argument', `SIMD level must be one of ${SIMD_LEVELS.join(', ')}, got '${wanted}'`);
  }
  if (SIMD_LEVELS.indexOf(wanted as SimdLevel) > SIMD_LEVELS.indexOf(status.cpuLevel)) {
    throw new RlsaError('failed_precondition', `this CPU does not support the ${wanted} kernels (best: ${status.cpuLevel})`);
  }
  return wanted as SimdLevel;
}
