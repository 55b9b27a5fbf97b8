import type { Split } from './dataset.ts';
import { DataError } from './errors.ts';

/**
 * Offset of test-split ids: train index i has global sample id i, test index j has id
 * TEST_ID_OFFSET + j. Every node and the aggregator agree on these ids without exchanging data.
 */
export const TEST_ID_OFFSET = 1_000_000;

/** The global id of a sample of a split. */
export function sampleId(split: Split, index: number): number {
  return split === 'train' ? index : TEST_ID_OFFSET + index;
}

/** Global ids of the given indices of a split, in the same order. */
export function sampleIds(split: Split, indices: ArrayLike<number>): Uint32Array {
  const out = new Uint32Array(indices.length);
  const offset = split === 'train' ? 0 : TEST_ID_OFFSET;
  for (let i = 0; i < indices.length; i++) out[i] = offset + (indices[i] as number);
  return out;
}

/** The split and index a global id names. */
export function parseSampleId(id: number): { split: Split; index: number } {
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) {
    throw new DataError('invalid_argument', `sample id ${id} is not a uint32`);
  }
  return id >= TEST_ID_OFFSET ? { split: 'test', index: id - TEST_ID_OFFSET } : { split: 'train', index: id };
}
