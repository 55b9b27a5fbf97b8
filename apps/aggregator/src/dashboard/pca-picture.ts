import { pca2, pcaSpec, renderSvg } from '@rlsa/charts';
import type { ScatterPoint } from '@rlsa/charts';
import type { RunReads } from '../query/run-reads.ts';

/** A drawn PCA of a run's merged space. */
export interface PcaPicture {
  readonly svg: string;
  /** Samples drawn (at most the limit). */
  readonly drawn: number;
  /** Merged samples there were. */
  readonly total: number;
  /** Fraction of the sample's variance along PC 1 and PC 2. */
  readonly explained: readonly [number, number];
}

/** `count` of `sorted`, evenly spaced: indices ⌊i·n/count⌋ for i < count (all when n ≤ count). */
export function evenlySpaced(sorted: BigUint64Array, count: number): BigUint64Array {
  const n = sorted.length;
  if (n <= count) return sorted;
  return BigUint64Array.from({ length: count }, (_, i) => sorted[Math.floor((i * n) / count)] as bigint);
}

/**
 * The merged rows of `ids` as one N×D float32 matrix with their labels (-1: unknown). Memory:
 * N·D·4 bytes, N bounded by the caller.
 */
async function mergedRows(reads: Pick<RunReads, 'merged'>, runId: string, ids: BigUint64Array): Promise<{ data: Float32Array; cols: number; labels: number[] }> {
  let data = new Float32Array(0);
  let cols = 0;
  const labels: number[] = [];
  for await (const batch of reads.merged(runId, { sampleIds: Array.from(ids) }, ids.length)) {
    cols = batch.cols;
    if (data.length === 0) data = new Float32Array(ids.length * cols);
    data.set(batch.values, labels.length * cols);
    labels.push(...batch.labels);
  }
  return { data, cols, labels };
}

/**
 * A 2-D PCA (`pca2`, the simulation's) of at most `maxRows` merged samples of a run (evenly
 * spaced over the sorted ids, so the same state draws the same picture), coloured by label and
 * rendered to SVG with the simulation report's renderer. Cost: O(iterations · N · D) for the PCA
 * with N ≤ maxRows and D the run's anchors.
 */
export async function drawPca(reads: Pick<RunReads, 'merged'>, runId: string, sortedIds: BigUint64Array, maxRows: number): Promise<PcaPicture> {
  const ids = evenlySpaced(sortedIds, maxRows);
  const { data, cols, labels } = await mergedRows(reads, runId, ids);
  const pca = pca2({ rows: ids.length, cols, data }, { iterations: 200, tolerance: 1e-8 });
  const points: ScatterPoint[] = labels.map((label, i) => ({ x: pca.coords[2 * i] as number, y: pca.coords[2 * i + 1] as number, label }));
  const numClasses = Math.max(1, ...labels) + 1;
  const title = `${ids.length} of ${sortedIds.length} merged samples (PC1 ${(100 * pca.explained[0]).toFixed(0)}%, PC2 ${(100 * pca.explained[1]).toFixed(0)}%)`;
  const svg = await renderSvg(pcaSpec([{ title, points }], numClasses));
  return { svg, drawn: ids.length, total: sortedIds.length, explained: pca.explained };
}
