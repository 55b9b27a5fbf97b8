import { createHash } from 'node:crypto';
import { anchorPool, selectAnchors } from '@rlsa/core';
import type { ImageDataset } from './dataset.ts';
import { imageSize } from './dataset.ts';
import { DataError } from './errors.ts';
import { parseSampleId } from './sample-ids.ts';

/** The paper's anchor pool: the first 1,000 training samples of a seed-42 shuffle. */
export const DEFAULT_ANCHOR_POOL_SIZE = 1000;
export const DEFAULT_ANCHOR_SEED = 42;
/** Anchors used out of the pool (the relative width). */
export const DEFAULT_ANCHOR_COUNT = 256;

export interface AnchorOptions {
  readonly poolSize?: number;
  readonly seed?: number;
}

/**
 * Training indices (= global ids) of the anchor pool: core `anchorPool` over the training split.
 * These samples are excluded from every task.
 */
export function anchorPoolIds(dataset: ImageDataset, options: AnchorOptions = {}): Uint32Array {
  const poolSize = Math.min(options.poolSize ?? DEFAULT_ANCHOR_POOL_SIZE, dataset.train.count);
  return anchorPool(dataset.train.count, { poolSize, seed: options.seed ?? DEFAULT_ANCHOR_SEED });
}

/**
 * The default anchors of a run: `count` ids drawn at random (core `selectAnchors`, strategy
 * 'random', same seed) from the anchor pool, in the order the core returns them.
 */
export function defaultAnchorIds(dataset: ImageDataset, options: AnchorOptions & { count?: number } = {}): Uint32Array {
  const pool = anchorPoolIds(dataset, options);
  const count = Math.min(options.count ?? DEFAULT_ANCHOR_COUNT, pool.length);
  const picked = selectAnchors(null, { count, strategy: 'random', seed: options.seed ?? DEFAULT_ANCHOR_SEED, poolSize: pool.length });
  return Uint32Array.from(picked, (i) => pool[i] as number);
}

/** The raw pixel bytes of one sample, in the source files' order (CIFAR: R, G, B planes). */
export function rawPixels(dataset: ImageDataset, id: number): Uint8Array {
  const { split, index } = parseSampleId(id);
  const source = dataset[split];
  if (index >= source.count) {
    throw new DataError('invalid_argument', `sample id ${id}: ${split} index ${index} is beyond the ${source.count} samples of ${dataset.name}`);
  }
  const size = imageSize(dataset);
  const hwc = source.images.subarray(index * size, (index + 1) * size);
  const channels = dataset.shape[2];
  if (dataset.fileLayout === 'hwc' || channels === 1) return hwc;
  const plane = size / channels;
  const chw = new Uint8Array(size);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < channels; c++) chw[c * plane + p] = hwc[p * channels + c] as number;
  }
  return chw;
}

/**
 * Hex SHA-256 over, in anchor order, each anchor's id (uint32 little-endian) and its raw pixel
 * bytes (the file's byte order). Nodes compare it with the run's fingerprint on Join: a node with
 * another copy, version or order of the data set is refused instead of merging garbage.
 */
export function anchorFingerprint(dataset: ImageDataset, anchorIds: ArrayLike<number>): string {
  const hash = createHash('sha256');
  const idBytes = new Uint8Array(4);
  const idView = new DataView(idBytes.buffer);
  for (let i = 0; i < anchorIds.length; i++) {
    const id = anchorIds[i] as number;
    idView.setUint32(0, id, true);
    hash.update(idBytes);
    hash.update(rawPixels(dataset, id));
  }
  return hash.digest('hex');
}
