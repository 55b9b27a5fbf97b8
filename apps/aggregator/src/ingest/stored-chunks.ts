import { RlsaError } from '@rlsa/core';
import { Encoding } from '@rlsa/proto';
import type { Matrix as WireMatrix } from '@rlsa/proto';
import { decodeMatrix } from '@rlsa/wire';
import type { DecodedMatrix } from '@rlsa/wire';
import { AggregatorError } from '../errors.ts';
import type { ChunkRef } from '../ledger/space-ledger.ts';
import { int32FromBytes } from '../storage/buffers.ts';
import { ChunkDamageError } from '../storage/chunk-damage.ts';
import type { ChunkRow } from '../storage/schema.ts';

/**
 * A stored chunk's values, decoded again. Values that are not finite as decoded (an int8 q·scale
 * past float32's range, accepted by aggregators that checked only the wire values, and carried
 * into this layout by the migration) make the chunk damaged (ChunkDamageError, DATA_LOSS): the
 * rebuild leaves its node out of the merge, so no such value ever reaches a merged row.
 */
export function decodeStored(row: ChunkRow): DecodedMatrix {
  try {
    return decodeMatrix({ rows: row.rows, cols: row.cols, encoding: row.encoding, data: row.data, rowScales: row.rowScales ?? new Uint8Array(0) });
  } catch (error: unknown) {
    if (!(error instanceof RlsaError && error.code === 'non_finite')) throw error;
    throw new ChunkDamageError({ runId: row.runId, nodeId: row.nodeId, space: row.space, seq: row.seq, reason: `stored values are not finite: ${error.message}` });
  }
}

/** An incoming chunk's content in the stored form, to compare with what was stored for its seq. */
export interface ChunkContent {
  wire: WireMatrix;
  sampleIds: Buffer;
  labels: Buffer | null;
}

/** Whether a chunk sent again is byte for byte the one stored for its seq (then it is a duplicate). */
export function sameChunk(stored: ChunkRow, content: ChunkContent): boolean {
  const { wire, sampleIds, labels } = content;
  return (
    stored.rows === wire.rows &&
    stored.cols === wire.cols &&
    stored.encoding === wire.encoding &&
    stored.sampleIds.equals(sampleIds) &&
    stored.data.equals(wire.data) &&
    (stored.rowScales ?? Buffer.alloc(0)).equals(wire.encoding === Encoding.INT8 ? wire.rowScales : new Uint8Array(0)) &&
    (stored.labels === null ? labels === null : labels !== null && stored.labels.equals(labels))
  );
}

/**
 * A node's stored rows, read on demand by their chunk reference (each stored chunk read and
 * decoded once per incoming chunk): what a sample sent again is compared with.
 */
export class StoredRows {
  private readonly chunks = new Map<number, { values: DecodedMatrix; labels: Int32Array | null }>();

  constructor(private readonly read: (seq: number) => ChunkRow | undefined) {}

  /** Whether row `ref` holds exactly `values[offset .. offset+cols)` with `label`. */
  holds(ref: ChunkRef, values: Float32Array, offset: number, label: number): boolean {
    const chunk = this.chunk(ref.seq);
    const cols = chunk.values.cols;
    const storedLabel = chunk.labels === null ? -1 : (chunk.labels[ref.row] as number);
    if (storedLabel !== label) return false;
    const stored = chunk.values.data;
    for (let c = 0; c < cols; c += 1) if (stored[ref.row * cols + c] !== values[offset + c]) return false;
    return true;
  }

  private chunk(seq: number): { values: DecodedMatrix; labels: Int32Array | null } {
    let chunk = this.chunks.get(seq);
    if (chunk === undefined) {
      const row = this.read(seq);
      if (row === undefined) throw new AggregatorError('internal', `chunk ${seq} is missing from storage`);
      chunk = { values: decodeStored(row), labels: row.labels === null ? null : int32FromBytes(row.labels) };
      this.chunks.set(seq, chunk);
    }
    return chunk;
  }
}
