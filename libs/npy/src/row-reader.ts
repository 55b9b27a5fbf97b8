import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { NPY_PREAMBLE_BYTES, npyDataStart, parseNpyLayout, readElements, swapBytes } from './codec.ts';
import { dtypeSize, type NpyData, type NpyDtype } from './dtype.ts';
import { ioError } from './file.ts';
import { NpyError } from './npy-error.ts';

/**
 * An NPY file opened for reading rows (slices along the first axis) without holding the file in
 * memory: memory is bounded by the rows asked for, whatever the file's size.
 */
export interface NpyRowReader {
  readonly path: string;
  readonly dtype: NpyDtype;
  /** The whole array's shape; `shape[0]` rows. */
  readonly shape: readonly number[];
  readonly rows: number;
  /** The shape of one row (`shape` without its first axis). */
  readonly rowShape: readonly number[];
  /** Bytes of one row in the file (elements of a row × element size). */
  readonly rowBytes: number;
  /**
   * The bytes of rows [start, start + count) in little-endian C order, whatever the file's byte
   * order (big-endian files are swapped): the canonical bytes content ids hash.
   */
  readRawRows(start: number, count: number): Uint8Array;
  /** Rows [start, start + count) decoded as `decodeNpy` decodes a whole file (float16 widened, bool 0/1). */
  readRows(start: number, count: number): NpyData;
  /** Closes the file; the reader is unusable afterwards. */
  close(): void;
}

/**
 * Opens an NPY file for row reads: checks its preamble and header, and that its size is exactly
 * the header's promise (`size_mismatch` on a truncated or over-long file), before any row is read.
 * Arrays of rank 0 are refused (`invalid_content`: they have no rows).
 */
export function openNpy(path: string): NpyRowReader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw ioError(error, path, 'read');
  }
  try {
    return rowReader(fd, path);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

function rowReader(fd: number, path: string): NpyRowReader {
  const fileSize = fstatSync(fd).size;
  const dataStart = npyDataStart(readAt(fd, 0, Math.min(NPY_PREAMBLE_BYTES, fileSize), path), path);
  const layout = parseNpyLayout(readAt(fd, 0, Math.min(dataStart, fileSize), path), path);
  const size = dtypeSize(layout.dtype);
  if (fileSize - dataStart !== layout.count * size) {
    throw new NpyError(
      'size_mismatch',
      `the data section has ${fileSize - dataStart} bytes but shape (${layout.shape.join(', ')}) of ${layout.dtype} needs ${layout.count * size}` +
        (fileSize - dataStart < layout.count * size ? ' (truncated file?)' : ''),
      { source: path },
    );
  }
  if (layout.shape.length === 0) throw new NpyError('invalid_content', 'a 0-d array has no rows', { source: path });
  const rows = layout.shape[0]!;
  const rowShape = layout.shape.slice(1);
  const rowElements = rowShape.reduce((a, b) => a * b, 1);
  const rowBytes = rowElements * size;
  const readRawRows = (start: number, count: number): Uint8Array => {
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > rows) {
      throw new NpyError('invalid_argument', `rows [${start}, ${start + count}) are outside the ${rows} rows`, { source: path });
    }
    const bytes = readAt(fd, dataStart + start * rowBytes, count * rowBytes, path);
    if (layout.bigEndian && size > 1) swapBytes(bytes, size);
    return bytes;
  };
  let open = true;
  return {
    path,
    dtype: layout.dtype,
    shape: layout.shape,
    rows,
    rowShape,
    rowBytes,
    readRawRows,
    readRows: (start, count) => readElements(readRawRows(start, count), 0, count * rowElements, layout.dtype, false),
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** Exactly `length` bytes at `position` (a fresh, aligned buffer), or `size_mismatch` if the file is shorter. */
function readAt(fd: number, position: number, length: number, path: string): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  try {
    while (done < length) {
      const n = readSync(fd, out, done, length - done, position + done);
      if (n === 0) throw new NpyError('size_mismatch', 'the file ended while reading it (was it truncated meanwhile?)', { source: path });
      done += n;
    }
  } catch (error) {
    if (error instanceof NpyError) throw error;
    throw ioError(error, path, 'read');
  }
  return out;
}
