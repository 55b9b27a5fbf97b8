import { RlsaError } from './errors.ts';
import { MergeAccumulator, type MergedSpace } from './merge-accumulator.ts';
import type { Matrix } from './matrix.ts';

/** One model's (relative) space: row r of `values` is the representation of sample `sampleIds[r]`. */
export interface Space {
  /** Unique ids; `values.rows === sampleIds.length`. */
  readonly sampleIds: Uint32Array;
  readonly values: Matrix;
}

/**
 * Per-sample mean over the spaces that contain the sample: for each id in the union of the
 * spaces' ids (ascending), m(id) = (1/|S(id)|) Σ_{s ∈ S(id)} v_s(id). All spaces must have
 * the same width W. Returns |union| × W Float32 with the contributor counts.
 * Throws `invalid_argument` for no spaces, `shape_mismatch` for differing widths.
 */
export function meanOverSpaces(spaces: readonly Space[]): MergedSpace {
  return weightedMeanOverSpaces(spaces, spaces.map(() => 1));
}

/**
 * Per-sample weighted mean: m(id) = Σ_{s ∈ S(id)} w_s v_s(id) / Σ_{s ∈ S(id)} w_s, with one
 * weight per space (finite, > 0; e.g. a party's sample count). Same shapes as {@link meanOverSpaces}.
 */
export function weightedMeanOverSpaces(spaces: readonly Space[], weights: readonly number[]): MergedSpace {
  if (spaces.length === 0) throw new RlsaError('invalid_argument', 'no spaces to merge');
  if (weights.length !== spaces.length) {
    throw new RlsaError('shape_mismatch', `${weights.length} weights for ${spaces.length} spaces`);
  }
  const width = spaces[0]!.values.cols;
  spaces.forEach((s, k) => {
    if (s.values.cols !== width) throw new RlsaError('shape_mismatch', `space ${k} has width ${s.values.cols}, space 0 has ${width}`);
  });
  const acc = new MergeAccumulator(width);
  spaces.forEach((s, k) => {
    try {
      acc.add(s.sampleIds, s.values, weights[k]!);
    } catch (e) {
      const err = RlsaError.from(e);
      throw new RlsaError(err.code, `space ${k}: ${err.message}`, { cause: e });
    }
  });
  return acc.result();
}
