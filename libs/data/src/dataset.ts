/** Data sets the project reads. */
export const DATASET_NAMES = ['fashion-mnist', 'cifar100', 'cifar10', 'synthetic'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** The two splits of a data set. */
export const SPLITS = ['train', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** One split of an image data set, pixels as bytes (what the files hold; normalised on the way into a model). */
export interface ImageSplit {
  /** count × H × W × C bytes, each image row-major with channels last (HWC, what tfjs wants). */
  readonly images: Uint8Array;
  /** Class of each image, 0..numClasses-1. */
  readonly labels: Uint8Array;
  readonly count: number;
  /** CIFAR-100 only: the coarse (super-class) label of each image. */
  readonly coarseLabels?: Uint8Array;
}

/**
 * An image classification data set in memory. Sample ids are global: train index i → i,
 * test index j → TEST_ID_OFFSET + j (see sample-ids.ts).
 */
export interface ImageDataset {
  readonly name: DatasetName;
  /** [height, width, channels] of one image. */
  readonly shape: readonly [number, number, number];
  readonly numClasses: number;
  /** One name per class, in label order. */
  readonly classNames: readonly string[];
  readonly train: ImageSplit;
  readonly test: ImageSplit;
  /**
   * How the source files order one image's pixel bytes: 'hwc' (IDX, synthetic) or 'chw'
   * (CIFAR binary: the red, green and blue planes). The anchor fingerprint hashes the bytes
   * in this order, so it equals a hash of the anchors' records as they are on disk.
   */
  readonly fileLayout: 'hwc' | 'chw';
  /** Where the data came from (a directory, or a description of the synthetic generator). */
  readonly source: string;
}

/** Bytes in one image (H·W·C). */
export function imageSize(dataset: Pick<ImageDataset, 'shape'>): number {
  const [h, w, c] = dataset.shape;
  return h * w * c;
}
