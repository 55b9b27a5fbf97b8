import { holdoutSplit } from './holdout.ts';

/** Which part of a source a sample belongs to, in a per-sample part list. */
export const PART_TRAIN = 0;
export const PART_TEST = 1;

/**
 * The rows of a source's training and test parts, from the kept samples (ascending): by each
 * sample's own part when the source has a test part (`parts[i]` = 1 for test), else a seeded
 * held-out fraction of the kept samples (`holdoutSplit`).
 */
export function splitParts(keep: Uint32Array, parts: Uint8Array | undefined, holdoutFraction: number, seed: number): { train: Uint32Array; test: Uint32Array } {
  if (parts !== undefined) {
    return { train: keep.filter((i) => parts[i] !== PART_TEST), test: keep.filter((i) => parts[i] === PART_TEST) };
  }
  const { train, test } = holdoutSplit(keep.length, holdoutFraction, seed);
  return { train: train.map((k) => keep[k]!), test: test.map((k) => keep[k]!) };
}

/** `values[rows[k]]` for each k: a part's ids or labels out of the whole source's. */
export function pick<T extends BigUint64Array | Int32Array>(values: T, rows: Uint32Array): T {
  const out = new (values.constructor as new (n: number) => T)(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = values[rows[k]!]!;
  return out;
}
