import { DataError } from './errors.ts';
import { readMaybeGzipped } from './read-file.ts';

/** An unsigned-byte IDX array: its dimensions and its data (a view into the file's bytes). */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

/** IDX type code of unsigned bytes, the only type the MNIST-style files use. */
const IDX_UBYTE = 0x08;

/**
 * Parses an IDX file (LeCun's MNIST format): magic `00 00 <type> <ndims>`, then `ndims`
 * big-endian uint32 sizes, then the row-major data. Only unsigned bytes (type 0x08) are accepted.
 * `expectedDims` checks the number of dimensions (3 for images, 1 for labels).
 * Throws DataError naming `file`: bad_magic, truncated (fewer bytes than the header promises)
 * or bad_format (wrong number of dimensions, trailing bytes).
 */
export function parseIdx(bytes: Uint8Array, file: string, expectedDims?: number): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError('bad_magic', `${file}: not an IDX file (bad magic number)`, file);
  }
  const type = bytes[2] as number;
  const ndims = bytes[3] as number;
  if (type !== IDX_UBYTE) {
    throw new DataError('bad_magic', `${file}: IDX data type 0x${type.toString(16)} is not unsigned byte (0x08)`, file);
  }
  if (ndims === 0 || (expectedDims !== undefined && ndims !== expectedDims)) {
    throw new DataError(
      'bad_format',
      `${file}: IDX file has ${ndims} dimensions, expected ${expectedDims ?? 'at least 1'}`,
      file,
    );
  }
  const headerSize = 4 + 4 * ndims;
  if (bytes.length < headerSize) throw new DataError('truncated', `${file}: truncated IDX header`, file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let d = 0; d < ndims; d++) {
    const n = view.getUint32(4 + 4 * d, false);
    dims.push(n);
    size *= n;
  }
  const available = bytes.length - headerSize;
  if (available < size) {
    throw new DataError('truncated', `${file}: truncated: header promises ${size} bytes of data, found ${available}`, file);
  }
  if (available > size) {
    throw new DataError('bad_format', `${file}: ${available - size} unexpected bytes after the IDX data`, file);
  }
  // A plain Uint8Array view (not a Buffer), so consumers see one type whatever read the file.
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerSize, size) };
}

/** Reads and parses an IDX file, gunzipping it when it is gzipped. */
export function readIdx(file: string, expectedDims?: number): IdxArray {
  return parseIdx(readMaybeGzipped(file), file, expectedDims);
}

/** Encodes an unsigned-byte IDX file (for tests and fixtures). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = IDX_UBYTE;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((n, d) => view.setUint32(4 + 4 * d, n, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
