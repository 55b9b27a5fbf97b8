import { RlsaError } from '@rlsa/core';

/**
 * Sample ids on the wire (rlsa.v2): unsigned 64-bit. A bulk id column (UploadChunk.sample_ids,
 * MergedChunk.sample_ids) is bytes of little-endian uint64, 8 per row; in memory it is a
 * `BigUint64Array` viewing those bytes, so no id becomes a BigInt object on the hot path (only an
 * element read does). Built-in data sets keep their 32-bit ids (train i -> i, test j -> 10⁶ + j).
 */

/** Bytes per sample id on the wire. */
export const SAMPLE_ID_BYTES = 8;

/** The largest sample id, 2⁶⁴ − 1. */
export const MAX_SAMPLE_ID = (1n << 64n) - 1n;

/** Sample ids as callers hold them: 64-bit, or the built-in data sets' 32-bit ids (converted once), or a short list of bigints. */
export type SampleIdsInput = BigUint64Array | Uint32Array | readonly bigint[];

/** One sample id as callers give it: a bigint, or a non-negative safe integer (a built-in id). */
export type SampleIdInput = bigint | number;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function assertLittleEndian(): void {
  if (!LITTLE_ENDIAN) throw new RlsaError('failed_precondition', 'sample id columns need a little-endian platform');
}

/**
 * The ids as a `BigUint64Array`: the same array when it is one already, else one copy (a
 * `Uint32Array` widened, a bigint list checked to be in [0, 2⁶⁴)).
 */
export function toSampleIds(ids: SampleIdsInput): BigUint64Array {
  if (ids instanceof BigUint64Array) return ids;
  if (ids instanceof Uint32Array) {
    assertLittleEndian();
    const out = new BigUint64Array(ids.length);
    // Widening through the two 32-bit halves of each element (the high ones stay 0): no BigInt per id.
    const words = new Uint32Array(out.buffer);
    for (let i = 0; i < ids.length; i += 1) words[2 * i] = ids[i] as number;
    return out;
  }
  const out = new BigUint64Array(ids.length);
  for (let i = 0; i < ids.length; i += 1) out[i] = toSampleId(ids[i] as bigint);
  return out;
}

/**
 * 64-bit ids that are a built-in data set's (all below 2³², as train index i -> i, test index
 * j -> 10⁶ + j) as a Uint32Array, read through their halves; `invalid_argument` naming the first
 * id that is not.
 */
export function toBuiltinIds(ids: BigUint64Array): Uint32Array {
  const words = sampleIdWords(ids);
  const out = new Uint32Array(ids.length);
  for (let i = 0; i < ids.length; i += 1) {
    if (words[2 * i + 1] !== 0) throw new RlsaError('invalid_argument', `sample id ${ids[i]} at row ${i} is not a built-in data set's id (< 2^32)`);
    out[i] = words[2 * i] as number;
  }
  return out;
}

/** One id as a bigint; `invalid_argument` when it is not an integer in [0, 2⁶⁴). */
export function toSampleId(id: SampleIdInput): bigint {
  if (typeof id === 'number') {
    if (!Number.isSafeInteger(id) || id < 0) throw new RlsaError('invalid_argument', `sample id ${id} is not a non-negative safe integer`);
    return BigInt(id);
  }
  if (typeof id !== 'bigint' || id < 0n || id > MAX_SAMPLE_ID) throw new RlsaError('invalid_argument', `sample id ${String(id)} is not in [0, 2^64)`);
  return id;
}

/** The wire bytes of an id column: a view of the array's memory (little-endian uint64, 8 per id), no copy. */
export function sampleIdBytes(ids: BigUint64Array): Uint8Array {
  assertLittleEndian();
  return new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength);
}

/**
 * The ids of a received id column: a view of `bytes` when they start on an 8-byte boundary, else
 * one aligned copy (a message's fields sit anywhere in its buffer). `shape_mismatch` when the
 * length is not a multiple of 8.
 */
export function sampleIdsFromBytes(bytes: Uint8Array): BigUint64Array {
  assertLittleEndian();
  if (bytes.byteLength % SAMPLE_ID_BYTES !== 0) {
    throw new RlsaError('shape_mismatch', `a sample id column of ${bytes.byteLength} bytes is not a whole number of 8-byte ids`);
  }
  const count = bytes.byteLength / SAMPLE_ID_BYTES;
  if (bytes.byteOffset % SAMPLE_ID_BYTES === 0) return new BigUint64Array(bytes.buffer, bytes.byteOffset, count);
  const out = new BigUint64Array(count);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/**
 * The 32-bit halves of each id, viewing the same memory: element 2i is id i's low word, 2i+1 its
 * high word. What hash tables and comparisons read instead of allocating a BigInt per id.
 */
export function sampleIdWords(ids: BigUint64Array): Uint32Array {
  assertLittleEndian();
  return new Uint32Array(ids.buffer, ids.byteOffset, ids.length * 2);
}

/** An id from its two 32-bit halves (for messages and results; not for loops over a column). */
export function sampleIdOf(low: number, high: number): bigint {
  return (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
}
