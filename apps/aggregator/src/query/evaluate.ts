import { FAST_LINALG_MIN_WORK, RlsaError, linearCka } from '@rlsa/core';
import type { Linalg } from '@rlsa/core';
import { sampleIdWords } from '@rlsa/wire';
import { SampleIndex } from '../ledger/sample-index.ts';
import type { MergedSpace } from '../merge/merge-strategy.ts';
import type { SpaceData } from './node-space.ts';

/** Linear CKA of one space against the reference on the samples both have. */
export interface CkaResult {
  /** 'merged' or a trainer's node id. */
  subject: string;
  /** Samples shared with the reference. */
  n: number;
  linearBiased: number;
  linearDebiased: number;
}

/**
 * Linear CKA (biased and debiased, core `linearCka`) of the merged space and of each trainer's
 * relative space against the reference's relative space, on the samples each shares with the
 * reference (n). A score is NaN when it is undefined there (n too small for the debiased
 * estimator, or a constant space). Trainer spaces are pulled one at a time (at most one in memory).
 * `linalg` computes the products (XᵀY, XᵀX, YᵀY: n·(2·width)² multiply-adds) of a pair past the
 * core's FAST_LINALG_MIN_WORK, the rule `rlsa cka` follows; smaller pairs run on the core's loops.
 */
export function evaluateAgainstReference(
  reference: SpaceData,
  merged: Pick<MergedSpace, 'read'>,
  trainers: Iterable<{ nodeId: string; space: SpaceData }>,
  linalg?: Linalg,
): CkaResult[] {
  const width = reference.cols;
  const referenceWords = sampleIdWords(reference.sampleIds);
  const referenceRow = SampleIndex.positions(referenceWords);
  const align = (ids: BigUint64Array, readX: (index: number, out: Float32Array, offset: number) => boolean): Aligned =>
    alignWithReference(ids, readX, reference, referenceRow);
  const scores: CkaResult[] = [];
  // The merged space, over the reference's samples in the reference's order.
  const mergedPairs = align(reference.sampleIds, (k, out, offset) => merged.read(referenceWords[2 * k] as number, referenceWords[2 * k + 1] as number, out, offset) !== undefined);
  scores.push({ subject: 'merged', ...ckaPair(mergedPairs, width, linalg) });
  for (const { nodeId, space } of trainers) {
    // A trainer's space, over its own rows in upload order.
    const pairs = align(space.sampleIds, (k, out, offset) => {
      out.set(space.values.subarray(k * width, (k + 1) * width), offset);
      return true;
    });
    scores.push({ subject: nodeId, ...ckaPair(pairs, width, linalg) });
  }
  return scores;
}

/** Paired rows: x[i] (the evaluated space) and y[i] (the reference) for the same sample, n × width each. */
interface Aligned {
  x: Float32Array;
  y: Float32Array;
  n: number;
}

/**
 * The alignment loop, written once: for each candidate id (in order) that the reference has and
 * `readX` can fill, row n of x is the candidate's and row n of y the reference's.
 */
function alignWithReference(
  ids: BigUint64Array,
  readX: (index: number, out: Float32Array, offset: number) => boolean,
  reference: SpaceData,
  referenceRow: SampleIndex,
): Aligned {
  const width = reference.cols;
  const words = sampleIdWords(ids);
  const x = new Float32Array(ids.length * width);
  const y = new Float32Array(ids.length * width);
  let n = 0;
  for (let k = 0; k < ids.length; k += 1) {
    const r = referenceRow.get(words[2 * k] as number, words[2 * k + 1] as number);
    if (r < 0 || !readX(k, x, n * width)) continue;
    y.set(reference.values.subarray(r * width, (r + 1) * width), n * width);
    n += 1;
  }
  return { x: x.subarray(0, n * width), y: y.subarray(0, n * width), n };
}

function ckaPair({ x, y, n }: Aligned, width: number, linalg: Linalg | undefined): { n: number; linearBiased: number; linearDebiased: number } {
  const mx = { rows: n, cols: width, data: x };
  const my = { rows: n, cols: width, data: y };
  const fast = linalg !== undefined && n * (2 * width) ** 2 >= FAST_LINALG_MIN_WORK;
  const safe = (debiased: boolean): number => {
    if (n === 0) return Number.NaN;
    try {
      return linearCka(mx, my, { debiased, ...(fast ? { linalg } : {}) });
    } catch (error: unknown) {
      if (error instanceof RlsaError) return Number.NaN;
      throw error;
    }
  };
  return { n, linearBiased: safe(false), linearDebiased: safe(true) };
}
