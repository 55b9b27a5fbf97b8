import { anchorFingerprint, type ImageDataset } from '@rlsa/data';
import { SourceError } from '../errors.ts';
import type { AnchorSet } from './anchor-set.ts';
import { encodeAnchorSet, sha256Hex } from './anchor-set-codec.ts';

/**
 * A set's fingerprint: the hex SHA-256 of its canonical encoding (`encodeAnchorSet`) for
 * `images` and `array` sets; for a `builtin` set, today's `anchorFingerprint` over its ids and the
 * pixels of `dataset` (which must be the named data set, loaded), so runs of built-in data sets
 * keep their fingerprints.
 */
export function anchorSetFingerprint(set: AnchorSet, dataset?: ImageDataset): string {
  if (set.kind !== 'builtin') return sha256Hex(encodeAnchorSet(set));
  if (dataset === undefined || dataset.name !== set.dataset) {
    throw new SourceError('invalid_argument', `the fingerprint of a built-in anchor set needs the ${set.dataset} data set loaded`);
  }
  return anchorFingerprint(dataset, set.ids);
}

/**
 * Refuses (`failed_precondition`, naming `source`) a set whose fingerprint is not the run's:
 * a node checks its local copy with this before any work.
 */
export function checkAnchorFingerprint(set: AnchorSet, expected: string, source: string, dataset?: ImageDataset): void {
  const actual = anchorSetFingerprint(set, dataset);
  if (actual !== expected) throw fingerprintMismatch(actual, expected, source);
}

/** The refusal of an anchor set whose fingerprint is not the run's. */
export function fingerprintMismatch(actual: string, expected: string, source: string): SourceError {
  return new SourceError('failed_precondition', `the anchor set hashes to ${actual.slice(0, 16)}…, the run's is ${expected.slice(0, 16)}…: another set, version or order`, {
    file: source,
  });
}
