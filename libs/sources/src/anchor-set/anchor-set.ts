import type { DatasetName } from '@rlsa/data';
import { sampleSize, type SampleShape } from '../sample.ts';

/**
 * The kinds of anchor set a run can have:
 * - `images`: encoded image files (PNG/JPEG bytes as given); each node decodes and resizes
 *   them with its own rule, so nodes with different input sizes share one set;
 * - `array`: an array of inputs (N×H×W×C images or N×F features, uint8 or float32), used as
 *   they are by nodes whose data has that shape;
 * - `builtin`: anchor ids into a named built-in data set (what runs used before anchor sets
 *   travelled with the run); its fingerprint stays `anchorFingerprint` of @rlsa/data.
 */
export const ANCHOR_SET_KINDS = ['images', 'array', 'builtin'] as const;
export type AnchorSetKind = (typeof ANCHOR_SET_KINDS)[number];

/** Per-anchor extras every kind may carry: class labels (−1 = none) and names (file names, say). */
interface AnchorExtras {
  readonly labels?: Int32Array;
  readonly names?: readonly string[];
}

export interface ImagesAnchorSet extends AnchorExtras {
  readonly kind: 'images';
  /** Each anchor's file bytes, in anchor order. */
  readonly files: readonly Uint8Array[];
}

/** Element types of an array anchor set. */
export const ANCHOR_DTYPES = ['uint8', 'float32'] as const;
export type AnchorDtype = (typeof ANCHOR_DTYPES)[number];

export interface ArrayAnchorSet extends AnchorExtras {
  readonly kind: 'array';
  readonly shape: SampleShape;
  /** count × sampleSize(shape) values, row-major, channels last. */
  readonly values: Uint8Array | Float32Array;
}

export interface BuiltinAnchorSet extends AnchorExtras {
  readonly kind: 'builtin';
  readonly dataset: DatasetName;
  /** Global sample ids (training indices) of the anchors, in anchor order. */
  readonly ids: Uint32Array;
}

/** A run's anchors, in the order of the relative vectors' columns. */
export type AnchorSet = ImagesAnchorSet | ArrayAnchorSet | BuiltinAnchorSet;

/** How many anchors a set has (the relative width). */
export function anchorCount(set: AnchorSet): number {
  switch (set.kind) {
    case 'images':
      return set.files.length;
    case 'array':
      return set.values.length / sampleSize(set.shape);
    case 'builtin':
      return set.ids.length;
  }
}
