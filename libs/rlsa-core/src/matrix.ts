import { RlsaError } from './errors.ts';

/**
 * A dense row-major matrix: element (i, j) is `data[i * cols + j]`.
 * Float32 is the storage type of embeddings; Float64 appears where the core returns sums.
 */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array | Float64Array;
}

/**
 * Makes a `rows × cols` matrix. A Float32Array or Float64Array is used as is (not copied, so
 * views such as `subarray` stay cheap); any other ArrayLike is copied into a Float32Array;
 * no data gives zeros (Float32). Throws `invalid_argument` for bad dimensions and
 * `shape_mismatch` when `data.length !== rows * cols`.
 */
export function matrix(rows: number, cols: number, data?: Float32Array | Float64Array | ArrayLike<number>): Matrix {
  assertDimension(rows, 'rows');
  assertDimension(cols, 'cols');
  const length = rows * cols;
  if (data === undefined) return { rows, cols, data: new Float32Array(length) };
  if (data.length !== length) {
    throw new RlsaError('shape_mismatch', `matrix ${rows}×${cols} needs ${length} values, got ${data.length}`);
  }
  if (data instanceof Float32Array || data instanceof Float64Array) return { rows, cols, data };
  return { rows, cols, data: Float32Array.from(data) };
}

/**
 * Rows `indices` of `x`, in the given order (repeats allowed): a `indices.length × x.cols`
 * matrix of the same element type. Throws `invalid_argument` for an index outside `[0, x.rows)`.
 */
export function takeRows(x: Matrix, indices: ArrayLike<number>): Matrix {
  assertMatrix(x, 'x');
  const { cols } = x;
  const out = x.data instanceof Float64Array ? new Float64Array(indices.length * cols) : new Float32Array(indices.length * cols);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r]!;
    if (!Number.isInteger(i) || i < 0 || i >= x.rows) {
      throw new RlsaError('invalid_argument', `row index ${i} at position ${r} is outside [0, ${x.rows})`);
    }
    out.set(x.data.subarray(i * cols, (i + 1) * cols), r * cols);
  }
  return { rows: indices.length, cols, data: out };
}

/** Rows [start, end) of `x` as a view sharing its buffer (no copy). */
export function rowSlice(x: Matrix, start: number, end: number): Matrix {
  return { rows: end - start, cols: x.cols, data: x.data.subarray(start * x.cols, end * x.cols) };
}

/** Checks that `x` is a well-formed Matrix (integer dimensions, matching data length). */
export function assertMatrix(x: Matrix, name: string): void {
  if (x === null || typeof x !== 'object' || !(x.data instanceof Float32Array || x.data instanceof Float64Array)) {
    throw new RlsaError('invalid_argument', `${name} is not a Matrix with Float32Array or Float64Array data`);
  }
  assertDimension(x.rows, `${name}.rows`);
  assertDimension(x.cols, `${name}.cols`);
  if (x.data.length !== x.rows * x.cols) {
    throw new RlsaError('shape_mismatch', `${name} is ${x.rows}×${x.cols} but holds ${x.data.length} values`);
  }
}

/** Throws `non_finite` naming the first NaN or ±Inf element of `x`. */
export function assertFinite(x: Matrix, name: string): void {
  const d = x.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i]!)) {
      const row = Math.floor(i / x.cols);
      throw new RlsaError('non_finite', `${name} has ${d[i]} at row ${row}, column ${i - row * x.cols}`);
    }
  }
}

/** Throws `invalid_argument` unless the matrix has at least one row and one column. */
export function assertNonEmpty(x: Matrix, name: string): void {
  if (x.rows === 0 || x.cols === 0) throw new RlsaError('invalid_argument', `${name} is empty (${x.rows}×${x.cols})`);
}

/** Column means of `x` accumulated in float64: a Float64Array of length `x.cols`. */
export function columnMeans(x: Matrix): Float64Array {
  const { rows, cols, data } = x;
  const sums = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    const off = i * cols;
    for (let j = 0; j < cols; j++) sums[j]! += data[off + j]!;
  }
  if (rows > 0) for (let j = 0; j < cols; j++) sums[j]! /= rows;
  return sums;
}

function assertDimension(n: number, name: string): void {
  if (!Number.isInteger(n) || n < 0) throw new RlsaError('invalid_argument', `${name} must be a non-negative integer, got ${n}`);
}
