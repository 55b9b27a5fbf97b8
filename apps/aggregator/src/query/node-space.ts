import { sampleIdWords, sampleIdsFromBytes, spaceFromName } from '@rlsa/wire';
import type { SpaceName } from '@rlsa/wire';
import { decodeStored } from '../ingest/stored-chunks.ts';
import { int32FromBytes } from '../storage/buffers.ts';
import type { Storage } from '../storage/storage.ts';

/** Rows of a space: ids, values (rows × cols, row-major), labels (-1 unknown). */
export interface SpaceData {
  sampleIds: BigUint64Array;
  values: Float32Array;
  cols: number;
  labels: Int32Array;
}

/** What the queries read of storage: a node's chunks, a page at a time. */
export type ChunkPages = Pick<Storage, 'chunksAfter'>;

/** Chunks read per page: no SQLite iterator stays open across a yield. */
const PAGE_CHUNKS = 16;

/**
 * A node's stored space, one chunk at a time (each part with its chunk's seq): its counted rows
 * (each sample once), in upload order; only its chunks after `afterSeq` and up to `throughSeq` (a
 * reader on another thread stops where the event loop's ledger stood when it asked, whatever was
 * committed since).
 */
export function* nodeSpaceParts(
  pages: ChunkPages,
  runId: string,
  nodeId: string,
  space: SpaceName,
  throughSeq = Number.POSITIVE_INFINITY,
  afterSeq = -1,
): Generator<SpaceData & { seq: number }> {
  const kind = spaceFromName(space);
  let after = afterSeq;
  for (;;) {
    const page = pages.chunksAfter(runId, nodeId, kind, after, PAGE_CHUNKS);
    if (page.length === 0) return;
    for (const row of page) {
      if (row.seq > throughSeq) return;
      after = row.seq;
      const values = decodeStored(row).data;
      const ids = sampleIdsFromBytes(row.sampleIds);
      const labels = row.labels === null ? new Int32Array(row.rows).fill(-1) : int32FromBytes(row.labels);
      if (row.counted === null) {
        yield { sampleIds: ids, values, cols: row.cols, labels, seq: row.seq };
        continue;
      }
      const keep: number[] = [];
      for (let i = 0; i < row.rows; i += 1) if (row.counted[i] === 1) keep.push(i);
      const keptValues = new Float32Array(keep.length * row.cols);
      keep.forEach((i, j) => keptValues.set(values.subarray(i * row.cols, (i + 1) * row.cols), j * row.cols));
      yield {
        sampleIds: pickIds(ids, keep),
        values: keptValues,
        cols: row.cols,
        labels: Int32Array.from(keep, (i) => labels[i] as number),
        seq: row.seq,
      };
    }
  }
}

/** Which node space to read, how far (its chunks through `throughSeq`), and its size then: `rows` counted rows of `cols` columns. */
export interface NodeSpaceTarget {
  runId: string;
  nodeId: string;
  space: SpaceName;
  throughSeq: number;
  rows: number;
  cols: number;
}

/** A node's whole stored space in memory, through the target's seq. */
export function readNodeSpace(pages: ChunkPages, target: NodeSpaceTarget): SpaceData {
  const { rows, cols } = target;
  const sampleIds = new BigUint64Array(rows);
  const values = new Float32Array(rows * cols);
  const labels = new Int32Array(rows);
  let offset = 0;
  for (const part of nodeSpaceParts(pages, target.runId, target.nodeId, target.space, target.throughSeq)) {
    sampleIds.set(part.sampleIds, offset);
    values.set(part.values, offset * cols);
    labels.set(part.labels, offset);
    offset += part.sampleIds.length;
  }
  return { sampleIds, values, cols, labels };
}

/** The ids at `rows`, copied through their 32-bit halves (no BigInt per id). */
function pickIds(ids: BigUint64Array, rows: readonly number[]): BigUint64Array {
  const out = new BigUint64Array(rows.length);
  const from = sampleIdWords(ids);
  const to = sampleIdWords(out);
  rows.forEach((row, j) => {
    to[2 * j] = from[2 * row] as number;
    to[2 * j + 1] = from[2 * row + 1] as number;
  });
  return out;
}
