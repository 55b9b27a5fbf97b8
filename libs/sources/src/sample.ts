/**
 * A sample's id: an unsigned 64-bit integer. By default derived from the sample's content (see
 * content-id.ts); the built-in data sets keep their 32-bit ids (`train i → i`, `test j → 10⁶ + j`).
 */
export type SampleId = bigint;

/** The label of a sample whose class is not known: merged but not probed. */
export const NO_LABEL = -1;

/** What one sample is: an image (H×W×C, channels last) or a feature vector of F values. */
export type SampleShape =
  | { readonly kind: 'image'; readonly height: number; readonly width: number; readonly channels: number }
  | { readonly kind: 'features'; readonly width: number };

/** Values in one sample (H·W·C or F). */
export function sampleSize(shape: SampleShape): number {
  return shape.kind === 'image' ? shape.height * shape.width * shape.channels : shape.width;
}

/** A shape as people write it: `32×32×3` (H×W×C) or `512 features`. */
export function shapeText(shape: SampleShape): string {
  return shape.kind === 'image' ? `${shape.height}×${shape.width}×${shape.channels}` : `${shape.width} features`;
}

/** Whether two shapes are the same. */
export function sameShape(a: SampleShape, b: SampleShape): boolean {
  return shapeText(a) === shapeText(b);
}

/**
 * Consecutive samples of one part of a source, in the part's order.
 * `values` is count × sampleSize(shape), row-major, channels last: bytes as decoded (uint8
 * images) or float32 (float images, features; float64 and float16 data converted).
 */
export interface SampleBatch {
  readonly shape: SampleShape;
  readonly count: number;
  readonly values: Uint8Array | Float32Array;
  /** One id per sample. */
  readonly ids: BigUint64Array;
  /** One class per sample, `NO_LABEL` (−1) where unknown. */
  readonly labels: Int32Array;
}

/** The training or test part of a source: its ids and labels are known up front, its values are streamed. */
export interface SourcePart {
  readonly count: number;
  /** Every sample's id, in the part's order (8 bytes a sample: the values are what is streamed). */
  readonly ids: BigUint64Array;
  /** Every sample's class, `NO_LABEL` where unknown. */
  readonly labels: Int32Array;
  /**
   * The values in batches of at most `batchSize` samples, in order. Memory is bounded by a few
   * batches whatever the part's size; reading errors (an image that turns out to be truncated)
   * are thrown from the iteration, naming the file.
   */
  batches(batchSize: number, options?: BatchOptions): AsyncIterable<SampleBatch>;
}

/** How a part is read. */
export interface BatchOptions {
  /**
   * Batches read ahead while the caller works on the current one (default 1: decoding overlaps
   * the caller's model; 0 reads only when asked, so that a benchmark counts threads exactly).
   */
  readonly prefetch?: number;
}

/** Where a source's test part comes from. */
export type TestOrigin = 'source' | 'holdout';

/** A sample dropped because an earlier one had the same id and the same content. */
export interface DroppedDuplicate {
  readonly id: SampleId;
  /** The sample kept (a file, or `x.npy[i]`). */
  readonly kept: string;
  /** The sample dropped. */
  readonly dropped: string;
}

/** A party's own data: what one sample is, its classes, and its training and test parts. */
export interface DataSource {
  /** One line for logs and the model card: the kind, the folder, the counts. */
  readonly description: string;
  readonly shape: SampleShape;
  /** One name per class, in label order; empty when the source has no labels. */
  readonly classNames: readonly string[];
  readonly train: SourcePart;
  readonly test: SourcePart;
  /** `source`: the source had a test part; `holdout`: a seeded fraction of its samples. */
  readonly testOrigin: TestOrigin;
  /** Samples found twice (same id, same content) and read once. */
  readonly duplicates: readonly DroppedDuplicate[];
  /** Releases open files. */
  close(): void;
}
