import { RlsaError } from '@rlsa/core';

/** Error codes of the addon, mapped to the core's closed set. */
export const NATIVE_ERROR_CODES: Readonly<Record<string, 'invalid_argument' | 'shape_mismatch' | 'failed_precondition' | 'too_large'>> = {
  ERR_RLSA_NATIVE_DTYPE: 'invalid_argument',
  ERR_RLSA_NATIVE_ARGUMENT: 'invalid_argument',
  ERR_RLSA_NATIVE_SHAPE: 'shape_mismatch',
  ERR_RLSA_NATIVE_LEVEL: 'failed_precondition',
  ERR_RLSA_NATIVE_MEMORY: 'too_large',
};

/** Runs an addon call, turning its coded errors into RlsaErrors. */
export function callNative<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const mapped = typeof code === 'string' ? NATIVE_ERROR_CODES[code] : undefined;
    throw new RlsaError(mapped ?? 'failed_precondition', (error as Error).message, { cause: error });
  }
}
