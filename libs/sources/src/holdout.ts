import { permutation, seededRng } from '@rlsa/core';
import { SourceError } from './errors.ts';

/** The default share of a source's samples held out for testing when it has no test part. */
export const DEFAULT_HOLDOUT_FRACTION = 0.2;

/** The held-out split's seed when none is given (the project's default seed). */
export const DEFAULT_HOLDOUT_SEED = 42;

/**
 * A seeded split of n samples into training and held-out test indices: the first
 * round(fraction·n) of the core's seeded permutation are the test part. Both lists are returned
 * in ascending order (the source's own order, so reads stay sequential). Same n, fraction and
 * seed → same split on every machine.
 */
export function holdoutSplit(n: number, fraction: number, seed: number): { train: Uint32Array; test: Uint32Array } {
  if (!(fraction >= 0 && fraction < 1)) throw new SourceError('invalid_argument', `the held-out fraction must be in [0, 1), got ${fraction}`);
  const order = permutation(n, seededRng(seed));
  const testCount = Math.round(fraction * n);
  const test = order.slice(0, testCount).sort();
  const train = order.slice(testCount).sort();
  return { train, test };
}
