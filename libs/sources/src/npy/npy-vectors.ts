import path from 'node:path';
import { readNpy, toIntegers, type NpyArray } from '@rlsa/npy';
import { SourceError, sourceErrorFrom } from '../errors.ts';
import { NO_LABEL } from '../sample.ts';

/** The dtypes ids may have (uint64 and int64 above all). */
const INTEGER_DTYPES = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'] as const;

/** N user-given ids: any integer dtype, non-negative, one per row of `xFile`. */
export function readIds(file: string, rows: number, xFile: string): BigUint64Array {
  const array = readWhole(file);
  if (array.shape.length !== 1 || !(INTEGER_DTYPES as readonly string[]).includes(array.dtype)) {
    throw new SourceError('bad_format', `expected a 1-D array of integer ids, got ${array.dtype} of shape (${array.shape.join(', ')})`, { file });
  }
  checkLength(file, array.shape[0]!, xFile, rows);
  const out = new BigUint64Array(rows);
  for (let i = 0; i < rows; i++) {
    const value = BigInt(array.data[i]!);
    if (value < 0n) throw new SourceError('bad_format', `id ${value} at position ${i}: ids must be non-negative`, { file });
    out[i] = value;
  }
  return out;
}

/** N labels in [−1, 2³¹): −1 = unlabelled. */
export function readLabels(file: string, rows: number, xFile: string): Int32Array {
  const array = readWhole(file);
  let labels: Int32Array | Float64Array;
  try {
    labels = toIntegers(array, file, { min: NO_LABEL, what: 'labels' });
  } catch (error) {
    throw sourceErrorFrom(error, file);
  }
  checkLength(file, labels.length, xFile, rows);
  if (!(labels instanceof Int32Array)) throw new SourceError('bad_format', 'labels must fit in 32 bits', { file });
  return labels;
}

function checkLength(file: string, length: number, xFile: string, rows: number): void {
  if (length !== rows) {
    throw new SourceError('bad_format', `${length} entries but ${path.basename(xFile)} has ${rows} rows (${xFile})`, { file });
  }
}

function readWhole(file: string): NpyArray {
  try {
    return readNpy(file);
  } catch (error) {
    throw sourceErrorFrom(error, file);
  }
}
