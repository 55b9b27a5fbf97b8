import type { NpyArray } from './codec.ts';
import { NpyError } from './npy-error.ts';
import { readNpy } from './file.ts';

/** A dense row-major matrix; structurally the same as `Matrix` of @rlsa/core. */
export interface NpyMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array | Float64Array;
}

const INTEGER_DTYPES = new Set(['bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64']);

/**
 * A 2-D array (N×D) as a matrix. float32 and float64 data are used as they are (no copy);
 * float16 arrives widened to float32; integers of up to 16 bits become Float32Array and wider
 * ones Float64Array (exact up to 2^53). With `finite`, the first NaN or ±Inf is reported with
 * its row and column (`invalid_content`).
 */
export function toMatrix(array: NpyArray, source: string, options: { finite?: boolean } = {}): NpyMatrix {
  if (array.shape.length !== 2) {
    throw new NpyError('invalid_content', `expected a 2-D array (rows × columns), got shape ${shapeText(array.shape)}`, { source });
  }
  const [rows, cols] = array.shape as [number, number];
  const { data } = array;
  let values: Float32Array | Float64Array;
  if (data instanceof Float32Array || data instanceof Float64Array) values = data;
  else if (data instanceof BigInt64Array || data instanceof BigUint64Array) values = Float64Array.from(data, (v) => Number(v));
  else if (data instanceof Int32Array || data instanceof Uint32Array) values = Float64Array.from(data);
  else values = Float32Array.from(data);
  if (options.finite === true) {
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i]!)) {
        const row = Math.floor(i / cols);
        throw new NpyError('invalid_content', `${values[i]} at row ${row}, column ${i - row * cols}`, { source });
      }
    }
  }
  return { rows, cols, data: values };
}

/**
 * A 1-D array of integers (any integer dtype, or a float array whose values are all integers)
 * as numbers. With `limit`, every value must lie in [0, limit) (row indices); with `min` (default
 * none) every value must be at least `min`. Errors name the position of the first bad value.
 */
export function toIntegers(array: NpyArray, source: string, options: { limit?: number; min?: number; what?: string } = {}): Int32Array | Float64Array {
  const what = options.what ?? 'values';
  if (array.shape.length !== 1) {
    throw new NpyError('invalid_content', `expected a 1-D array of ${what}, got shape ${shapeText(array.shape)}`, { source });
  }
  const { data } = array;
  const integral = INTEGER_DTYPES.has(array.dtype);
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]!);
    if (!integral && !Number.isInteger(v)) {
      throw new NpyError('invalid_content', `${what} must be integers, but position ${i} holds ${v} (dtype ${array.dtype})`, { source });
    }
    if (!Number.isSafeInteger(v)) throw new NpyError('invalid_content', `${what}: position ${i} holds ${String(data[i])}, too large`, { source });
    if (options.limit !== undefined && (v < 0 || v >= options.limit)) {
      throw new NpyError('invalid_content', `${what}: position ${i} holds ${v}, outside [0, ${options.limit})`, { source });
    }
    if (options.min !== undefined && v < options.min) {
      throw new NpyError('invalid_content', `${what}: position ${i} holds ${v}, below ${options.min}`, { source });
    }
    out[i] = v;
  }
  const fitsInt32 = out.every((v) => v >= -0x80000000 && v <= 0x7fffffff);
  return fitsInt32 ? Int32Array.from(out) : out;
}

/** A matrix as an NPY array of its own element type (float32 or float64), shape [rows, cols]. */
export function fromMatrix(m: NpyMatrix): NpyArray {
  return { dtype: m.data instanceof Float64Array ? 'float64' : 'float32', shape: [m.rows, m.cols], data: m.data };
}

/** Reads an N×D matrix from an NPY file (see `toMatrix`). */
export function readMatrix(path: string, options: { finite?: boolean } = {}): NpyMatrix {
  return toMatrix(readNpy(path), path, options);
}

/** Reads a 1-D integer vector from an NPY file (see `toIntegers`). */
export function readIntegers(path: string, options: { limit?: number; min?: number; what?: string } = {}): Int32Array | Float64Array {
  return toIntegers(readNpy(path), path, options);
}

/** A shape as Python prints it: `(5,)`, `(3, 4)`, `()`. */
function shapeText(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}
