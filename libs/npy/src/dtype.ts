import { NpyError } from './npy-error.ts';

/** The element types this library reads (and, but for float16 on output only widened, writes). */
export type NpyDtype =
  | 'bool'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float16'
  | 'float32'
  | 'float64';

/**
 * The typed array holding an array's elements in row-major (C) order. float16 is widened to
 * Float32Array (JavaScript has no half type); bool is a Uint8Array of 0/1; 64-bit integers are
 * BigInt arrays, converted to numbers only where a caller asks (with a range check).
 */
export type NpyData =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

interface DtypeInfo {
  /** The descr code without its byte-order character. */
  readonly code: string;
  /** Bytes per element in the file. */
  readonly size: number;
}

const DTYPES: Record<NpyDtype, DtypeInfo> = {
  bool: { code: 'b1', size: 1 },
  int8: { code: 'i1', size: 1 },
  uint8: { code: 'u1', size: 1 },
  int16: { code: 'i2', size: 2 },
  uint16: { code: 'u2', size: 2 },
  int32: { code: 'i4', size: 4 },
  uint32: { code: 'u4', size: 4 },
  int64: { code: 'i8', size: 8 },
  uint64: { code: 'u8', size: 8 },
  float16: { code: 'f2', size: 2 },
  float32: { code: 'f4', size: 4 },
  float64: { code: 'f8', size: 8 },
};

const BY_CODE = new Map<string, NpyDtype>(Object.entries(DTYPES).map(([name, info]) => [info.code, name as NpyDtype]));

/** Element size in bytes as stored in an NPY file. */
export function dtypeSize(dtype: NpyDtype): number {
  return DTYPES[dtype].size;
}

/** The little-endian descr NumPy writes for this dtype (`<f4`, `|u1`, ...). */
export function dtypeDescr(dtype: NpyDtype): string {
  const { code, size } = DTYPES[dtype];
  return `${size === 1 ? '|' : '<'}${code}`;
}

/**
 * Parses a NumPy descr string such as `<f4`, `>i8`, `|u1` or `=f8`.
 * Returns the dtype and whether the data is big-endian.
 */
export function parseDescr(descr: string, source: string): { dtype: NpyDtype; bigEndian: boolean } {
  const match = /^([<>|=]?)([a-zA-Z]\d+)$/.exec(descr);
  const dtype = match === null ? undefined : BY_CODE.get(match[2]!);
  if (match === null || dtype === undefined) {
    throw new NpyError('unsupported_dtype', `dtype '${descr}' is not supported (expected one of ${supportedList()})`, { source });
  }
  const order = match[1]!;
  const size = DTYPES[dtype].size;
  if (order === '|' && size > 1) throw new NpyError('bad_header', `dtype '${descr}' has no byte order but ${size}-byte elements`, { source });
  return { dtype, bigEndian: order === '>' && size > 1 };
}

function supportedList(): string {
  return Object.values(DTYPES)
    .map((d) => d.code)
    .join(', ');
}

/** The dtype whose natural container is this typed array (Float32Array → float32, ...). */
export function dtypeOfData(data: NpyData): NpyDtype {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof BigUint64Array) return 'uint64';
  throw new NpyError('invalid_argument', 'data is not a supported typed array');
}

/** Whether `data` is the container `dtype` is held in (Float32Array for float16, Uint8Array for bool). */
export function dataMatchesDtype(data: NpyData, dtype: NpyDtype): boolean {
  if (dtype === 'float16') return data instanceof Float32Array;
  if (dtype === 'bool') return data instanceof Uint8Array;
  return dtypeOfData(data) === dtype;
}
