import { sampleIdOf } from '@rlsa/wire';
import type { DecodedMatrix } from '@rlsa/wire';
import { AggregatorError } from '../errors.ts';
import type { MergedSpace } from '../merge/merge-strategy.ts';

/** Neighbours per Nearest call, at most. */
export const MAX_NEAREST_K = 1_000;
/** Neighbours when the caller asks for 0. */
const DEFAULT_NEAREST_K = 10;

export interface NeighborResult {
  sampleId: bigint;
  similarity: number;
  label: number;
}

/** A Nearest query: a merged sample (itself excluded from the answer), or a vector of the relative width. */
export type NearestQuery = { sampleId: bigint } | { vector: DecodedMatrix };

/** A neighbour found, its id still as two halves (made a bigint only for the k kept). */
interface Candidate {
  low: number;
  high: number;
  similarity: number;
  label: number;
}

/**
 * The k nearest merged samples by cosine similarity to the query, most similar first.
 * Cosine is scale-invariant, so the merged space's directions serve (no division per sample).
 * NOT_FOUND for a sample without contribution; INVALID_ARGUMENT for k above MAX_NEAREST_K, a
 * vector of another shape, or a zero vector.
 */
export function nearestMerged(runId: string, merged: MergedSpace, query: NearestQuery, k: number): NeighborResult[] {
  return nearestByDirection(merged, nearestSearch(runId, merged, query, k));
}

/** A Nearest search checked and ready to run anywhere (a read thread): the query vector, its norm, who to leave out, how many. */
export interface NearestSearch {
  q: Float64Array;
  qNorm: number;
  exclude: { low: number; high: number } | undefined;
  count: number;
}

/**
 * Checks a Nearest query against the merged space and turns it into a search (the one read of
 * the query sample's row): NOT_FOUND, INVALID_ARGUMENT as `nearestMerged` says.
 */
export function nearestSearch(runId: string, merged: Pick<MergedSpace, 'width' | 'read'>, query: NearestQuery, k: number): NearestSearch {
  const count = k === 0 ? DEFAULT_NEAREST_K : k;
  if (count > MAX_NEAREST_K) throw new AggregatorError('invalid_argument', `k = ${k} is above the limit of ${MAX_NEAREST_K}`);
  const { q, exclude } = queryVector(runId, merged, query);
  let qNorm = 0;
  for (const v of q) qNorm += v * v;
  qNorm = Math.sqrt(qNorm);
  if (qNorm === 0) throw new AggregatorError('invalid_argument', 'the query vector has zero norm (cosine is undefined)');
  return { q, qNorm, exclude, count };
}

/** Runs a search over every merged sample's direction: the `count` most similar, most similar first. */
export function nearestByDirection(space: Pick<MergedSpace, 'forEachDirection'>, search: NearestSearch): NeighborResult[] {
  const { q, qNorm, exclude, count } = search;
  const best: Candidate[] = [];
  space.forEachDirection((low, high, direction, _count, label) => {
    if (exclude !== undefined && low === exclude.low && high === exclude.high) return;
    let dot = 0;
    let norm = 0;
    for (let c = 0; c < q.length; c += 1) {
      const v = direction[c] as number;
      dot += v * (q[c] as number);
      norm += v * v;
    }
    if (norm === 0) return;
    const similarity = dot / (Math.sqrt(norm) * qNorm);
    if (best.length === count && similarity <= (best[best.length - 1] as Candidate).similarity) return;
    let at = best.length;
    while (at > 0 && (best[at - 1] as Candidate).similarity < similarity) at -= 1;
    best.splice(at, 0, { low, high, similarity, label });
    if (best.length > count) best.pop();
  });
  return best.map(({ low, high, similarity, label }) => ({ sampleId: sampleIdOf(low, high), similarity, label }));
}

/** The query as a float64 vector of the merged width, and the sample to leave out (its halves; undefined: none). */
function queryVector(runId: string, merged: Pick<MergedSpace, 'width' | 'read'>, query: NearestQuery): { q: Float64Array; exclude: { low: number; high: number } | undefined } {
  const width = merged.width;
  const q = new Float64Array(width);
  if ('sampleId' in query) {
    const row = new Float32Array(width);
    const exclude = { low: Number(query.sampleId & 0xffffffffn), high: Number(query.sampleId >> 32n) };
    if (merged.read(exclude.low, exclude.high, row, 0) === undefined) throw new AggregatorError('not_found', `sample ${query.sampleId} has no contribution in run ${runId}`);
    q.set(row);
    return { q, exclude };
  }
  if (query.vector.rows !== 1 || query.vector.cols !== width) {
    throw new AggregatorError('invalid_argument', `the query vector must be 1 × ${width}, got ${query.vector.rows} × ${query.vector.cols}`);
  }
  q.set(query.vector.data);
  return { q, exclude: undefined };
}
