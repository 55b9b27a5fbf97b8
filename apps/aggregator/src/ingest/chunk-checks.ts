import { RlsaError } from '@rlsa/core';
import { Encoding } from '@rlsa/proto';
import type { Matrix as WireMatrix, UploadChunk } from '@rlsa/proto';
import { SAMPLE_ID_BYTES, decodeMatrix, encodingFromName, sampleIdsFromBytes } from '@rlsa/wire';
import type { DecodedMatrix, EncodingName, SpaceName } from '@rlsa/wire';
import { nativeCopyFiniteFloat32 } from '@rlsa/linalg-native';
import { AggregatorError } from '../errors.ts';

/** The addon's one-pass copy-and-check of float32 payloads, or null (decodeMatrix copies and checks in JavaScript). */
const COPY_FINITE = nativeCopyFiniteFloat32();

/** Rows per uploaded chunk, at most. */
export const MAX_ROWS_PER_CHUNK = 65_536;

/** What a chunk's shape is checked against: the run's accepted encodings and the space's width. */
export interface ChunkExpectation {
  runId: string;
  seq: number;
  space: SpaceName;
  acceptedEncodings: readonly EncodingName[];
  cols: number;
}

/**
 * Checks a chunk's shape before anything is decoded: an encoding the run accepts, 1 to
 * MAX_ROWS_PER_CHUNK rows (more: RESOURCE_EXHAUSTED), the space's width, one id (8 bytes) and one
 * label, if any, per row, labels ≥ -1. INVALID_ARGUMENT otherwise.
 */
export function checkChunkShape(chunk: UploadChunk, wire: WireMatrix, expect: ChunkExpectation): void {
  const { seq } = expect;
  if (expect.acceptedEncodings.length > 0 && !expect.acceptedEncodings.map(encodingFromName).includes(wire.encoding)) {
    throw new AggregatorError('invalid_argument', `encoding ${Encoding[wire.encoding] ?? wire.encoding} is not accepted by run ${expect.runId}`);
  }
  const rows = wire.rows;
  if (rows === 0) throw new AggregatorError('invalid_argument', `chunk ${seq} has no rows`);
  if (rows > MAX_ROWS_PER_CHUNK) throw new AggregatorError('resource_exhausted', `chunk ${seq} has ${rows} rows; at most ${MAX_ROWS_PER_CHUNK}`);
  if (wire.cols !== expect.cols) throw new AggregatorError('invalid_argument', `chunk ${seq} has width ${wire.cols}; the ${expect.space} width is ${expect.cols}`);
  if (chunk.sampleIds.byteLength !== rows * SAMPLE_ID_BYTES) {
    throw new AggregatorError('invalid_argument', `chunk ${seq} has ${chunk.sampleIds.byteLength} bytes of sample ids for ${rows} rows (8 per row)`);
  }
  if (chunk.labels.length !== 0 && chunk.labels.length !== rows) {
    throw new AggregatorError('invalid_argument', `chunk ${seq} has ${chunk.labels.length} labels for ${rows} rows`);
  }
  for (const label of chunk.labels) {
    if (label < -1) throw new AggregatorError('invalid_argument', `label ${label} is not a class index (-1 = unknown)`);
  }
}

/**
 * A chunk's sample ids in memory of their own (not a view of the received message, which should
 * die young): INVALID_ARGUMENT when the column is not a whole number of 8-byte ids.
 */
export function chunkSampleIds(chunk: UploadChunk, seq: number): BigUint64Array {
  try {
    const ids = sampleIdsFromBytes(chunk.sampleIds);
    return ids.buffer === chunk.sampleIds.buffer ? ids.slice() : ids;
  } catch (error: unknown) {
    throw new AggregatorError('invalid_argument', `chunk ${seq}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Decodes a chunk's values (into `scratch` when given): a matrix the codec refuses is
 * INVALID_ARGUMENT (RESOURCE_EXHAUSTED when too large). A well-formed float32 chunk is copied into
 * `scratch` and checked in one native pass where the addon is built; one with a NaN/±Inf, any
 * other encoding, and every chunk without the addon go through the codec's `decodeMatrix` (the
 * same checks and messages).
 */
export function decodeChunk(wire: WireMatrix, cols: number, seq: number, scratch: Float32Array | undefined): DecodedMatrix {
  const count = wire.rows * wire.cols;
  if (COPY_FINITE !== null && scratch !== undefined && wire.encoding === Encoding.FLOAT32 && wire.cols === cols && wire.data.byteLength === 4 * count && scratch.length >= count) {
    const values = scratch.subarray(0, count);
    if (COPY_FINITE(wire.data, values, count) < 0) return { rows: wire.rows, cols, data: values };
  }
  try {
    return decodeMatrix(wire, scratch === undefined ? { expectedCols: cols } : { expectedCols: cols, scratch });
  } catch (error: unknown) {
    if (error instanceof RlsaError) {
      throw new AggregatorError(error.code === 'too_large' ? 'resource_exhausted' : 'invalid_argument', `chunk ${seq}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
