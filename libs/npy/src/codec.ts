import { dataMatchesDtype, dtypeDescr, dtypeSize, parseDescr, type NpyData, type NpyDtype } from './dtype.ts';
import { halfToNumber, numberToHalf } from './float16.ts';
import { formatHeader, parseHeader } from './header.ts';
import { NpyError } from './npy-error.ts';

/** A dense array in row-major (C) order: `data.length` is the product of `shape`. */
export interface NpyArray {
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  readonly data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** NumPy aligns the start of the data to 64 bytes (so that memory-mapped arrays are aligned). */
const ALIGNMENT = 64;
const HOST_BIG_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

/**
 * Decodes an NPY file (format 1.0, 2.0 or 3.0) held in memory.
 *
 * Shape `[d0, d1, ...]` with `data.length = d0·d1·…`, element (i, j) of a 2-D array at
 * `data[i·d1 + j]`. The data is a view into `bytes` when alignment and byte order allow it
 * (so large files are not copied), else a copy. Fortran-ordered arrays of rank ≥ 2 are
 * refused (`fortran_order`); so are truncated or over-long data sections (`size_mismatch`).
 * `source` names the file in error messages.
 */
export function decodeNpy(bytes: Uint8Array, source = 'buffer'): NpyArray {
  const layout = parseNpyLayout(bytes, source);
  const size = dtypeSize(layout.dtype);
  const available = bytes.length - layout.dataStart;
  if (available !== layout.count * size) {
    throw new NpyError(
      'size_mismatch',
      `the data section has ${available} bytes but shape (${layout.shape.join(', ')}) of ${layout.dtype} needs ${layout.count * size}` +
        (available < layout.count * size ? ' (truncated file?)' : ''),
      { source },
    );
  }
  const data = readElements(bytes, layout.dataStart, layout.count, layout.dtype, layout.bigEndian);
  return { dtype: layout.dtype, shape: layout.shape, data };
}

/** Where an NPY file's data starts and what it holds, from its preamble and header. */
export interface NpyLayout {
  readonly dtype: NpyDtype;
  /** Whether the file stores multi-byte elements big-endian. */
  readonly bigEndian: boolean;
  readonly shape: readonly number[];
  /** Elements in the data section (the product of `shape`). */
  readonly count: number;
  /** Byte offset of the data section (a multiple of 64 for files NumPy wrote). */
  readonly dataStart: number;
}

/** Bytes of preamble an NPY file has before its header's length is known (magic, version, length field). */
export const NPY_PREAMBLE_BYTES = 12;

/**
 * The offset of the data section, from the first `NPY_PREAMBLE_BYTES` bytes (fewer for a 1.0
 * file is fine: it needs 10): checks the magic string and the version.
 */
export function npyDataStart(bytes: Uint8Array, source: string): number {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new NpyError('not_npy', 'not an NPY file (it does not start with the \\x93NUMPY magic string)', { source });
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (!((major === 1 || major === 2 || major === 3) && minor === 0)) {
    throw new NpyError('unsupported_version', `NPY format version ${major}.${minor} is not supported (1.0, 2.0 and 3.0 are)`, { source });
  }
  const headerStart = major === 1 ? 10 : 12;
  if (bytes.length < headerStart) throw new NpyError('size_mismatch', 'the file ends inside the NPY preamble', { source });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return headerStart + (major === 1 ? view.getUint16(8, true) : view.getUint32(8, true));
}

/**
 * Parses the preamble and header of an NPY file (format 1.0, 2.0 or 3.0) from its first bytes
 * (at least up to the data section). Fortran-ordered arrays of rank ≥ 2 are refused (`fortran_order`).
 */
export function parseNpyLayout(bytes: Uint8Array, source: string): NpyLayout {
  const dataStart = npyDataStart(bytes, source);
  if (dataStart > bytes.length) throw new NpyError('size_mismatch', 'the file ends inside the NPY header', { source });
  const major = bytes[6]!;
  const headerBytes = bytes.subarray(major === 1 ? 10 : 12, dataStart);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(headerBytes);
  const header = parseHeader(text, source);
  if (header.fortranOrder && header.shape.length >= 2) {
    throw new NpyError(
      'fortran_order',
      'the array is stored in Fortran (column-major) order, which is not supported; save it in C order, e.g. np.save(path, np.ascontiguousarray(x))',
      { source },
    );
  }
  const { dtype, bigEndian } = parseDescr(header.descr, source);
  return { dtype, bigEndian, shape: header.shape, count: elementCount(header.shape, source), dataStart };
}

/**
 * Encodes an array as an NPY file: format 1.0 unless the header needs more than 65,535 bytes
 * (then 2.0), little-endian descr, C order, data aligned to 64 bytes as NumPy does.
 * `data` must be the container of `dtype` (Float32Array for float16 and float32, Uint8Array for bool).
 */
export function encodeNpy(array: NpyArray): Uint8Array {
  const { dtype, shape, data } = array;
  if (!dataMatchesDtype(data, dtype)) {
    throw new NpyError('invalid_argument', `a ${data.constructor.name} cannot be written as ${dtype}`);
  }
  const count = elementCount(shape, 'array');
  if (count !== data.length) {
    throw new NpyError('invalid_argument', `shape (${shape.join(', ')}) has ${count} elements but the data has ${data.length}`);
  }
  const dict = formatHeader({ descr: dtypeDescr(dtype), fortranOrder: false, shape });
  let major = 1;
  let preamble = 10;
  let padded = roundUp(preamble + dict.length + 1, ALIGNMENT) - preamble;
  if (padded > 0xffff) {
    major = 2;
    preamble = 12;
    padded = roundUp(preamble + dict.length + 1, ALIGNMENT) - preamble;
  }
  const header = dict.padEnd(padded - 1, ' ') + '\n';
  const size = dtypeSize(dtype);
  const out = new Uint8Array(preamble + padded + count * size);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, padded, true);
  else view.setUint32(8, padded, true);
  // The header holds only ASCII (descr codes, digits, punctuation).
  for (let i = 0; i < header.length; i++) out[preamble + i] = header.charCodeAt(i);
  writeElements(out, preamble + padded, data, dtype);
  return out;
}

/** The product of `shape`, refused (`bad_header`) past 2^53. */
export function elementCount(shape: readonly number[], source: string): number {
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (!Number.isSafeInteger(count)) throw new NpyError('bad_header', `shape (${shape.join(', ')}) is too large`, { source });
  }
  return count;
}

function roundUp(n: number, multiple: number): number {
  return Math.ceil(n / multiple) * multiple;
}

/**
 * The `count` elements of `dtype` at `offset` of `bytes` as their typed array (see `NpyData`):
 * a view when byte order and alignment allow, else a copy. Shared by `decodeNpy` and the row reader.
 */
export function readElements(bytes: Uint8Array, offset: number, count: number, dtype: NpyDtype, fileBigEndian: boolean): NpyData {
  const size = dtypeSize(dtype);
  const swap = fileBigEndian !== HOST_BIG_ENDIAN;
  const start = bytes.byteOffset + offset;
  if (dtype === 'float16') {
    const view = new DataView(bytes.buffer, start, count * 2);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = halfToNumber(view.getUint16(2 * i, !fileBigEndian));
    return out;
  }
  if (dtype === 'bool') {
    // A copy (`new Uint8Array(view)`): Buffer#slice would share memory with the input.
    const out = new Uint8Array(bytes.subarray(offset, offset + count));
    for (let i = 0; i < count; i++) out[i] = out[i] === 0 ? 0 : 1;
    return out;
  }
  let buffer: ArrayBufferLike = bytes.buffer;
  let byteOffset = start;
  if (swap || start % size !== 0) {
    // A copy: either the byte order differs from the host's or the data is not aligned for a view.
    const copy = new Uint8Array(bytes.subarray(offset, offset + count * size));
    if (swap) swapBytes(copy, size);
    buffer = copy.buffer;
    byteOffset = 0;
  }
  return makeView(dtype, buffer, byteOffset, count);
}

function makeView(dtype: Exclude<NpyDtype, 'float16' | 'bool'>, buffer: ArrayBufferLike, byteOffset: number, count: number): NpyData {
  switch (dtype) {
    case 'int8':
      return new Int8Array(buffer, byteOffset, count);
    case 'uint8':
      return new Uint8Array(buffer, byteOffset, count);
    case 'int16':
      return new Int16Array(buffer, byteOffset, count);
    case 'uint16':
      return new Uint16Array(buffer, byteOffset, count);
    case 'int32':
      return new Int32Array(buffer, byteOffset, count);
    case 'uint32':
      return new Uint32Array(buffer, byteOffset, count);
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, count);
    case 'uint64':
      return new BigUint64Array(buffer, byteOffset, count);
    case 'float32':
      return new Float32Array(buffer, byteOffset, count);
    case 'float64':
      return new Float64Array(buffer, byteOffset, count);
  }
}

/** Reverses the bytes of each `size`-byte element in place (big ↔ little endian). */
export function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

function writeElements(out: Uint8Array, offset: number, data: NpyData, dtype: NpyDtype): void {
  if (dtype === 'float16') {
    const view = new DataView(out.buffer, offset, data.length * 2);
    const src = data as Float32Array;
    for (let i = 0; i < src.length; i++) view.setUint16(2 * i, numberToHalf(src[i]!), true);
    return;
  }
  if (dtype === 'bool') {
    const src = data as Uint8Array;
    for (let i = 0; i < src.length; i++) out[offset + i] = src[i] === 0 ? 0 : 1;
    return;
  }
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  out.set(raw, offset);
  if (HOST_BIG_ENDIAN) swapBytes(out.subarray(offset, offset + data.byteLength), dtypeSize(dtype));
}
