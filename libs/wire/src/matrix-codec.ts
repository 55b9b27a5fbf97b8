import { create } from '@bufbuild/protobuf';
import { RlsaError } from '@rlsa/core';
import { Encoding, MatrixSchema } from '@rlsa/proto';
import type { Matrix as WireMatrix } from '@rlsa/proto';
import { FLOAT16_TABLE, float32ToFloat16Bits } from '@rlsa/core';

/** The fields of an `rlsa.v2.Matrix` the decoder reads: a received message, or a stored row's columns. */
export type MatrixFields = Pick<WireMatrix, 'rows' | 'cols' | 'encoding' | 'data' | 'rowScales'>;

/** A dense row-major matrix, structurally the core's `Matrix`. */
export interface DenseMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array | Float64Array;
}

/** A decoded matrix: always a fresh, aligned Float32Array the caller owns. */
export interface DecodedMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

/** The wire encodings by name, as flags and configs spell them. */
export const ENCODING_NAMES = ['float32', 'float16', 'int8'] as const;
export type EncodingName = (typeof ENCODING_NAMES)[number];

/**
 * Relative error bound of a float16 round trip for |x| in the normal range [2^-14, 65504]:
 * |decode(encode(x)) − x| ≤ 2^-11 · |x| (half an ulp of an 11-bit significand).
 */
export const FLOAT16_RELATIVE_ERROR = 2 ** -11;

/** Absolute error bound of a float16 round trip below the normal range (|x| < 2^-14): half a subnormal step. */
export const FLOAT16_SUBNORMAL_ABSOLUTE_ERROR = 2 ** -25;

/**
 * Error bound of an int8 round trip for one element of a row whose largest magnitude is
 * `rowMaxAbs`: the scale is rowMaxAbs/127 and rounding to the nearest step costs at most half
 * a step, plus float32 rounding of the scale and of the product (2^-23 relative, generous).
 */
export function int8ErrorBound(rowMaxAbs: number): number {
  return rowMaxAbs / 254 + rowMaxAbs * 2 ** -23;
}

/** Error bound of a float16 round trip for one value (see the two constants). */
export function float16ErrorBound(value: number): number {
  return Math.max(Math.abs(value) * FLOAT16_RELATIVE_ERROR, FLOAT16_SUBNORMAL_ABSOLUTE_ERROR);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function encodingFromName(name: EncodingName): Encoding {
  switch (name) {
    case 'float32':
      return Encoding.FLOAT32;
    case 'float16':
      return Encoding.FLOAT16;
    case 'int8':
      return Encoding.INT8;
    default:
      throw new RlsaError('invalid_argument', `unknown encoding ${String(name)} (float32, float16 or int8)`);
  }
}

export function encodingName(encoding: Encoding): EncodingName {
  switch (encoding) {
    case Encoding.FLOAT32:
      return 'float32';
    case Encoding.FLOAT16:
      return 'float16';
    case Encoding.INT8:
      return 'int8';
    default:
      throw new RlsaError('invalid_argument', `unknown or unspecified matrix encoding ${String(encoding)}`);
  }
}

/** Bytes per value of an encoding. */
export function bytesPerValue(encoding: Encoding): number {
  return encoding === Encoding.FLOAT32 ? 4 : encoding === Encoding.FLOAT16 ? 2 : 1;
}

function assertLittleEndian(): void {
  if (!LITTLE_ENDIAN) throw new RlsaError('failed_precondition', 'matrix encoding needs a little-endian platform');
}

/**
 * Encodes a rows×cols row-major matrix for the wire (protocol message `rlsa.v2.Matrix`).
 *
 * - float32: little-endian bytes; a Float64 input is rounded to float32 (relative error ≤ 2^-24).
 * - float16: binary16, round to nearest even; error per value ≤ `float16ErrorBound(x)`.
 *   Values with |x| > 65504 do not fit: `too_large`.
 * - int8: per row, scale = max|x|/127 (float32) and q = round(x/scale) in [-127, 127];
 *   error per value ≤ `int8ErrorBound(max|x| of its row)`. An all-zero row has scale 0.
 *
 * Throws RlsaError `non_finite` on NaN/±Inf and `shape_mismatch` when data.length ≠ rows·cols.
 * `copy: false` lets a float32 message view the input's memory (serialize it at once).
 * `checkFinite: false` sends float32 values as they are, NaN/±Inf included: only for a receiver
 * that checks every value itself (the aggregator refuses a chunk with one, naming its row and
 * column), so that a megabyte is not read twice. float16 and int8 always check (their arithmetic
 * needs finite input).
 */
export function encodeMatrix(matrix: DenseMatrix, encoding: EncodingName = 'float32', options: { copy?: boolean; checkFinite?: boolean } = {}): WireMatrix {
  assertLittleEndian();
  const { rows, cols, data } = matrix;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new RlsaError('invalid_argument', `matrix shape ${rows}×${cols} is not a pair of non-negative integers`);
  }
  if (data.length !== rows * cols) {
    throw new RlsaError('shape_mismatch', `matrix data has ${data.length} values, expected ${rows}×${cols} = ${rows * cols}`);
  }
  const wireEncoding = encodingFromName(encoding);
  if (options.checkFinite !== false || wireEncoding !== Encoding.FLOAT32) assertFinite(data);
  if (wireEncoding === Encoding.FLOAT32) {
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    const view = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    // copy: false shares the caller's memory: only for a message serialized before the caller can change it.
    const bytes = options.copy === false || values !== data ? view : view.slice();
    return create(MatrixSchema, { rows, cols, encoding: wireEncoding, data: bytes });
  }
  if (wireEncoding === Encoding.FLOAT16) {
    const halves = new Uint16Array(data.length);
    for (let i = 0; i < data.length; i += 1) {
      const h = float32ToFloat16Bits(data[i] as number);
      if ((h & 0x7fff) === 0x7c00) {
        throw new RlsaError('too_large', `value ${data[i]} at index ${i} does not fit float16 (|x| ≤ 65504)`);
      }
      halves[i] = h;
    }
    return create(MatrixSchema, { rows, cols, encoding: wireEncoding, data: new Uint8Array(halves.buffer) });
  }
  const quantized = new Int8Array(data.length);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r += 1) {
    const start = r * cols;
    let maxAbs = 0;
    for (let c = 0; c < cols; c += 1) maxAbs = Math.max(maxAbs, Math.abs(data[start + c] as number));
    const scale = Math.fround(maxAbs / 127);
    scales[r] = scale;
    if (scale === 0) continue;
    for (let c = 0; c < cols; c += 1) {
      const q = Math.round((data[start + c] as number) / scale);
      quantized[start + c] = Math.max(-127, Math.min(127, q));
    }
  }
  return create(MatrixSchema, {
    rows,
    cols,
    encoding: wireEncoding,
    data: new Uint8Array(quantized.buffer),
    rowScales: new Uint8Array(scales.buffer),
  });
}

/**
 * Decodes a wire matrix into a fresh Float32Array (rows×cols, row-major), validating it:
 * known encoding (`invalid_argument`), byte lengths matching rows·cols (`shape_mismatch`),
 * finite scales and finite values *as decoded* (`non_finite`, naming the row and column): the
 * check runs on the float32 values the arithmetic produced, whatever the encoding, so that a
 * value finite on the wire and infinite in memory (int8 q·scale past float32's largest, about
 * 3.4·10³⁸) is refused like a NaN sent as float32. `expectedCols`, when given, must equal cols.
 * Unaligned bytes are copied before they are viewed as floats. With `scratch` (at least rows·cols
 * long) the values are written into its start and `data` is a view of it: no allocation, but the
 * result is valid only until the scratch is reused.
 */
export function decodeMatrix(wire: MatrixFields, options: { expectedCols?: number; maxValues?: number; scratch?: Float32Array } = {}): DecodedMatrix {
  assertLittleEndian();
  const { rows, cols, encoding } = wire;
  if (options.expectedCols !== undefined && cols !== options.expectedCols) {
    throw new RlsaError('shape_mismatch', `matrix has ${cols} columns, expected ${options.expectedCols}`);
  }
  const count = rows * cols;
  if (options.maxValues !== undefined && count > options.maxValues) {
    throw new RlsaError('too_large', `matrix of ${rows}×${cols} values exceeds the limit of ${options.maxValues}`);
  }
  const name = encodingName(encoding);
  const width = bytesPerValue(encoding);
  const data = wire.data;
  if (data.byteLength !== count * width) {
    throw new RlsaError(
      'shape_mismatch',
      `${name} matrix ${rows}×${cols} needs ${count * width} data bytes, got ${data.byteLength}`,
    );
  }
  const out = options.scratch !== undefined && options.scratch.length >= count ? options.scratch.subarray(0, count) : new Float32Array(count);
  if (encoding === Encoding.FLOAT32) {
    new Uint8Array(out.buffer, out.byteOffset, count * 4).set(data);
  } else if (encoding === Encoding.FLOAT16) {
    const halves = new Uint16Array(count);
    new Uint8Array(halves.buffer).set(data);
    // An Inf or NaN bit pattern decodes to Inf or NaN: the check below names it.
    for (let i = 0; i < count; i += 1) out[i] = FLOAT16_TABLE[halves[i] as number] as number;
  } else {
    if (wire.rowScales.byteLength !== rows * 4) {
      throw new RlsaError('shape_mismatch', `int8 matrix with ${rows} rows needs ${rows * 4} row_scales bytes, got ${wire.rowScales.byteLength}`);
    }
    const scales = new Float32Array(rows);
    new Uint8Array(scales.buffer).set(wire.rowScales);
    const quantized = new Int8Array(data.buffer, data.byteOffset, data.byteLength);
    for (let r = 0; r < rows; r += 1) {
      const scale = scales[r] as number;
      if (!Number.isFinite(scale) || scale < 0) {
        throw new RlsaError('non_finite', `int8 row ${r} has scale ${scale}; scales must be finite and ≥ 0`);
      }
      const start = r * cols;
      for (let c = 0; c < cols; c += 1) out[start + c] = (quantized[start + c] as number) * scale;
    }
  }
  // After the arithmetic, for every encoding: the values as they are in memory must be finite.
  const i = firstNonFinite(out);
  if (i >= 0) throw new RlsaError('non_finite', `${name} value at row ${Math.floor(i / cols)}, column ${i % cols} is ${out[i]} as decoded`);
  return { rows, cols, data: out };
}

function assertFinite(data: Float32Array | Float64Array): void {
  if (data instanceof Float32Array) {
    const i = firstNonFinite(data);
    if (i >= 0) throw new RlsaError('non_finite', `value at index ${i} is ${data[i]}`);
    return;
  }
  for (let i = 0; i < data.length; i += 1) {
    const v = data[i] as number;
    if (v - v !== 0) throw new RlsaError('non_finite', `value at index ${i} is ${v}`);
  }
}

const EXPONENT_BITS = 0x7f800000;

/**
 * Index of the first NaN or ±Inf in `values`, or -1. It reads the bits (a float32 is not finite
 * exactly when its 8 exponent bits are all ones), four at a time: about 4× faster in V8 than
 * `v - v !== 0` per value, which matters at a megabyte per chunk.
 */
export function firstNonFinite(values: Float32Array): number {
  const bits = new Int32Array(values.buffer, values.byteOffset, values.length);
  const n = bits.length;
  const end4 = n - (n % 4);
  let i = 0;
  for (; i < end4; i += 4) {
    if (
      ((bits[i] as number) & EXPONENT_BITS) === EXPONENT_BITS ||
      ((bits[i + 1] as number) & EXPONENT_BITS) === EXPONENT_BITS ||
      ((bits[i + 2] as number) & EXPONENT_BITS) === EXPONENT_BITS ||
      ((bits[i + 3] as number) & EXPONENT_BITS) === EXPONENT_BITS
    ) {
      break;
    }
  }
  for (; i < n; i += 1) if (((bits[i] as number) & EXPONENT_BITS) === EXPONENT_BITS) return i;
  return -1;
}
