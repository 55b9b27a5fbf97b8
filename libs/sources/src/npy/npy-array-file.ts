import { openNpy, type NpyRowReader } from '@rlsa/npy';
import { npyRowHeader, npyRowId } from '../content-id.ts';
import { SourceError, sourceErrorFrom } from '../errors.ts';
import type { SampleShape } from '../sample.ts';

/** The dtypes an NPY source reads for its samples: bytes, or floats (read as float32). */
const SAMPLE_DTYPES = ['uint8', 'float16', 'float32', 'float64'] as const;

/** Rows read at once while scanning: at most this many bytes (bounded memory for any file). */
const SCAN_BYTES = 8 << 20;

/** An NPY file of samples (N×H×W×C, N×H×W or N×F), opened for row reads. */
export interface SampleArrayFile {
  readonly file: string;
  readonly reader: NpyRowReader;
  readonly shape: SampleShape;
  /** Whether rows read as bytes (uint8) rather than float32. */
  readonly bytes: boolean;
}

/** Opens a sample array: rank 2 → features, rank 3 → grey images, rank 4 → H×W×C images; uint8 or floats. */
export function openSampleArray(file: string): SampleArrayFile {
  let reader: NpyRowReader;
  try {
    reader = openNpy(file);
  } catch (error) {
    throw sourceErrorFrom(error, file);
  }
  const fail = (message: string): never => {
    reader.close();
    throw new SourceError('bad_format', message, { file });
  };
  if (!(SAMPLE_DTYPES as readonly string[]).includes(reader.dtype)) fail(`dtype ${reader.dtype}: samples are read as uint8 or floats`);
  const [a, b, c] = reader.rowShape;
  let shape: SampleShape | undefined;
  if (reader.rowShape.length === 1) shape = { kind: 'features', width: a! };
  else if (reader.rowShape.length === 2) shape = { kind: 'image', height: a!, width: b!, channels: 1 };
  else if (reader.rowShape.length === 3) shape = { kind: 'image', height: a!, width: b!, channels: c! };
  if (shape === undefined || reader.rowShape.some((d) => d < 1)) {
    return fail(`shape (${reader.shape.join(', ')}): expected N×F features, N×H×W or N×H×W×C images`);
  }
  return { file, reader, shape, bytes: reader.dtype === 'uint8' };
}

/** Rows [start, start + count) as bytes or float32. */
export function readSampleRows(array: SampleArrayFile, start: number, count: number): Uint8Array | Float32Array {
  try {
    const data = array.reader.readRows(start, count);
    if (array.bytes) return data as Uint8Array;
    return data instanceof Float32Array ? data : Float32Array.from(data as Float64Array);
  } catch (error) {
    throw sourceErrorFrom(error, array.file);
  }
}

/**
 * One pass over the file, a few megabytes at a time: every row's content id (see `npyRowHeader`)
 * and, for floats, a check that every value is finite (`bad_format` naming the row and column).
 */
export function scanSampleRows(array: SampleArrayFile): BigUint64Array {
  const { reader } = array;
  const ids = new BigUint64Array(reader.rows);
  const header = npyRowHeader(reader.dtype, reader.rowShape);
  const step = Math.max(1, Math.floor(SCAN_BYTES / Math.max(1, reader.rowBytes)));
  for (let start = 0; start < reader.rows; start += step) {
    const count = Math.min(step, reader.rows - start);
    const raw = reader.readRawRows(start, count);
    for (let r = 0; r < count; r++) ids[start + r] = npyRowId(header, raw.subarray(r * reader.rowBytes, (r + 1) * reader.rowBytes));
    if (!array.bytes) checkFinite(readSampleRows(array, start, count), start, array);
  }
  return ids;
}

function checkFinite(values: Uint8Array | Float32Array, firstRow: number, array: SampleArrayFile): void {
  const size = rowElements(array);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) {
      const row = Math.floor(i / size);
      throw new SourceError('bad_format', `${values[i]} at row ${firstRow + row}, position ${i - row * size}: values must be finite`, { file: array.file });
    }
  }
}

function rowElements(array: SampleArrayFile): number {
  return array.reader.rowShape.reduce((a, b) => a * b, 1);
}
