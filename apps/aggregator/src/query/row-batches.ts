import { sampleIdWords } from '@rlsa/wire';
import { AggregatorError } from '../errors.ts';
import { SampleIndex } from '../ledger/sample-index.ts';
import type { MergedSpace } from '../merge/merge-strategy.ts';
import type { SpaceData } from './node-space.ts';

/** Rows streamed in one message, at most. */
export const MAX_ROWS_PER_BATCH = 65_536;
/** Target size of a streamed batch when the reader does not ask for a row count. */
const BATCH_BYTES = 1 << 20;
/**
 * Values (float32) of one streamed batch, at most, whatever row count the reader asks for: 4 MiB,
 * so that one message costs the event loop a few milliseconds and its memory is bounded (the
 * next batch is made only after this one was flushed).
 */
export const MAX_BATCH_BYTES = 4 << 20;
/** Sample ids one ReadMerged may name, at most (each answered with a row: the answer is at most this many rows). */
export const MAX_READ_IDS = 65_536;

/** Rows of a space as one streamed message carries them. */
export interface RowBatch {
  sampleIds: BigUint64Array;
  /** rows × cols, row-major */
  values: Float32Array;
  cols: number;
  /** Trainer rows averaged into each row (1 for a node's own space). */
  counts: number[];
  /** -1 where unknown */
  labels: number[];
}

/**
 * Rows per batch: the reader's `maxRows` (0: about a megabyte of float32), at most
 * MAX_ROWS_PER_BATCH and at most MAX_BATCH_BYTES of values (at least one row).
 */
export function rowsPerBatch(maxRows: number, cols: number): number {
  const rowBytes = Math.max(1, cols) * 4;
  const byBytes = Math.max(1, Math.floor(MAX_BATCH_BYTES / rowBytes));
  if (maxRows > 0) return Math.min(maxRows, MAX_ROWS_PER_BATCH, byBytes);
  return Math.max(1, Math.floor(BATCH_BYTES / rowBytes));
}

/** Which merged rows a read wants: the given ids in their order, or all samples in ascending order after `after` (exclusive). */
export type MergedSelection = { sampleIds: readonly bigint[] } | { after?: bigint };

/**
 * The merged space in batches of at most `maxRows` rows: all samples in ascending id order
 * (after a resume cursor when given; `order`: the ascending ids when the caller has them), or the
 * given ids in the given order: at most MAX_READ_IDS, each once (INVALID_ARGUMENT otherwise), each
 * with a contribution (NOT_FOUND otherwise), all checked before any batch.
 */
export function mergedBatches(runId: string, merged: MergedSpace, selection: MergedSelection, maxRows: number, order?: BigUint64Array): Iterable<RowBatch> {
  let ids: BigUint64Array;
  if ('sampleIds' in selection) {
    ids = checkedIds(runId, merged, selection.sampleIds);
  } else {
    const all = order ?? merged.sortedIds();
    ids = selection.after === undefined ? all : all.subarray(firstAfter(all, selection.after));
  }
  return batchesOf(merged, ids, rowsPerBatch(maxRows, merged.width));
}

/** The ids a read names, checked: bounded in count, each once, each merged. */
function checkedIds(runId: string, merged: MergedSpace, sampleIds: readonly bigint[]): BigUint64Array {
  if (sampleIds.length > MAX_READ_IDS) throw new AggregatorError('invalid_argument', `a read names ${sampleIds.length} sample ids; at most ${MAX_READ_IDS} (read all samples, or in several requests)`);
  const ids = BigUint64Array.from(sampleIds);
  const words = sampleIdWords(ids);
  const seen = new SampleIndex(ids.length);
  for (let i = 0; i < ids.length; i += 1) {
    const low = words[2 * i] as number;
    const high = words[2 * i + 1] as number;
    if (seen.has(low, high)) throw new AggregatorError('invalid_argument', `sample id ${ids[i]} is named twice in the read (each id at most once)`);
    seen.set(low, high, i);
    if (!merged.has(low, high)) throw new AggregatorError('not_found', `sample ${ids[i]} has no contribution in run ${runId}`);
  }
  return ids;
}

/** The index of the first id above `after` in ascending `ids` (binary search). */
function firstAfter(ids: BigUint64Array, after: bigint): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ids[mid] as bigint) <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function* batchesOf(merged: MergedSpace, ids: BigUint64Array, rows: number): Generator<RowBatch> {
  const width = merged.width;
  for (let start = 0; start < ids.length; start += rows) {
    const batch = ids.subarray(start, Math.min(ids.length, start + rows));
    const words = sampleIdWords(batch);
    const values = new Float32Array(batch.length * width);
    const counts: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < batch.length; i += 1) {
      const read = merged.read(words[2 * i] as number, words[2 * i + 1] as number, values, i * width);
      counts.push(read?.count ?? 0);
      labels.push(read?.label ?? -1);
    }
    yield { sampleIds: batch, values, cols: width, counts, labels };
  }
}

/** A node's space (parts read from storage) in batches of at most `maxRows` rows. */
export function* spaceBatches(parts: Iterable<SpaceData>, maxRows: number): Generator<RowBatch> {
  for (const part of parts) {
    const rows = rowsPerBatch(maxRows, part.cols);
    const n = part.sampleIds.length;
    for (let start = 0; start < n; start += rows) {
      const end = Math.min(n, start + rows);
      yield {
        sampleIds: part.sampleIds.subarray(start, end),
        values: part.values.subarray(start * part.cols, end * part.cols),
        cols: part.cols,
        counts: new Array<number>(end - start).fill(1),
        labels: Array.from(part.labels.subarray(start, end)),
      };
    }
  }
}
