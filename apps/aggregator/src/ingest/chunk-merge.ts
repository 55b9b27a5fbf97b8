import { sampleIdWords } from '@rlsa/wire';
import type { DecodedMatrix, SpaceName } from '@rlsa/wire';
import type { NodeEntry } from '../ledger/run-ledger.ts';
import type { RunRecord } from '../runs/run-directory.ts';

/** A committed chunk's rows as the memory takes them: `counted[i] = 0` for a sample the node sent before (null: all counted). */
export interface ChunkRows {
  sampleIds: BigUint64Array;
  values: DecodedMatrix;
  labels: ArrayLike<number>;
  counted: Uint8Array | null;
}

/** How a committed chunk's rows reach its run's merged space. `rows.values` are valid only during the call. */
export interface ChunkMerger {
  committed(run: RunRecord, node: NodeEntry, space: SpaceName, seq: number, rows: ChunkRows): void;
}

/**
 * Merges a committed chunk's counted rows into the run's merged space: only trainers' relative
 * rows are merged (the reference is what the merged space is evaluated against).
 */
export function mergeChunkRows(run: RunRecord, node: NodeEntry, space: SpaceName, rows: ChunkRows): void {
  if (!merges(node, space)) return;
  const { values, labels, counted } = rows;
  const words = sampleIdWords(rows.sampleIds);
  for (let i = 0; i < values.rows; i += 1) {
    if (counted !== null && counted[i] === 0) continue;
    run.merged.add(words[2 * i] as number, words[2 * i + 1] as number, values.data, i, labels.length === 0 ? -1 : (labels[i] as number));
  }
}

/** Whether a node's rows in `space` are merged: a trainer's relative rows (the reference is what the merged space is evaluated against). */
export function merges(node: NodeEntry, space: SpaceName): boolean {
  return space === 'relative' && node.role === 'trainer';
}

/** The merge at the commit, as the rebuild does it (the ingest's default; the server trails it with `DeferredMerge`). */
export const mergeAtCommit: ChunkMerger = {
  committed: (run, node, space, _seq, rows) => mergeChunkRows(run, node, space, rows),
};
