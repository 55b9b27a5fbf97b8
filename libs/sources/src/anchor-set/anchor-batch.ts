import type { ImageDataset } from '@rlsa/data';
import { contentId, npyRowHeader, npyRowId } from '../content-id.ts';
import { SourceError } from '../errors.ts';
import { decodeImage, type ChannelCount } from '../image/decode-image.ts';
import type { ResizeRule } from '../image/resize-rule.ts';
import { NO_LABEL, sameShape, sampleSize, shapeText, type SampleBatch, type SampleShape } from '../sample.ts';
import { anchorCount, type AnchorSet } from './anchor-set.ts';

/** How a node reads the run's anchors: as it reads its own data. */
export interface AnchorBatchOptions {
  /** The node's sample shape; the anchors are brought to it. */
  readonly shape: SampleShape;
  /** The node's resize rule (for an images set whose images are not already the node's size). */
  readonly resize?: ResizeRule;
  /** The built-in data set, loaded (for a builtin set). */
  readonly dataset?: ImageDataset;
  /** Names the set in messages (default `the anchor set`). */
  readonly source?: string;
}

/**
 * The run's anchors as one batch of the node's inputs, in anchor order: an images set decoded
 * and resized by the node's own rule (`decodeImage`); an array set as it is (its shape must be
 * the node's); a builtin set read from the loaded data set. Ids are the anchors' content ids
 * (file bytes; NPY-row canonical bytes of the array's dtype and row shape) or, for a builtin set,
 * its sample ids; labels the set's, −1 where it has none.
 */
export async function anchorBatch(set: AnchorSet, options: AnchorBatchOptions): Promise<SampleBatch> {
  const source = options.source ?? 'the anchor set';
  const count = anchorCount(set);
  const labels = set.labels ?? new Int32Array(count).fill(NO_LABEL);
  const { shape } = options;
  const mismatch = (theirs: string): SourceError =>
    new SourceError('bad_format', `the run's anchors are ${theirs}, this node's samples are ${shapeText(shape)}`, { file: source });
  if (set.kind === 'array') {
    if (!sameShape(set.shape, shape)) throw mismatch(shapeText(set.shape));
    const header = npyRowHeader(set.values instanceof Uint8Array ? 'uint8' : 'float32', set.shape.kind === 'image' ? [set.shape.height, set.shape.width, set.shape.channels] : [set.shape.width]);
    const rowBytes = sampleSize(set.shape) * set.values.BYTES_PER_ELEMENT;
    const bytes = new Uint8Array(set.values.buffer, set.values.byteOffset, set.values.byteLength);
    const ids = BigUint64Array.from({ length: count }, (_, i) => npyRowId(header, bytes.subarray(i * rowBytes, (i + 1) * rowBytes)));
    return { shape, count, values: set.values, ids, labels };
  }
  if (shape.kind !== 'image' || (shape.channels !== 1 && shape.channels !== 3)) throw mismatch(set.kind === 'images' ? 'image files' : `images of ${set.dataset}`);
  const size = sampleSize(shape);
  const values = new Uint8Array(count * size);
  if (set.kind === 'images') {
    const target = { height: shape.height, width: shape.width, channels: shape.channels as ChannelCount };
    for (let i = 0; i < count; i++) {
      values.set(await decodeImage(set.files[i]!, `${source}: ${set.names?.[i] ?? `anchor ${i}`}`, target, options.resize), i * size);
    }
    return { shape, count, values, ids: BigUint64Array.from(set.files, (file) => contentId(file)), labels };
  }
  const { dataset } = options;
  if (dataset === undefined || dataset.name !== set.dataset) throw new SourceError('invalid_argument', `the anchors are samples of ${set.dataset}: load it`, { file: source });
  const [height, width, channels] = dataset.shape;
  if (!sameShape({ kind: 'image', height, width, channels }, shape)) throw mismatch(`${dataset.name} images of ${height}×${width}×${channels}`);
  for (let i = 0; i < count; i++) {
    const id = set.ids[i]!;
    if (id >= dataset.train.count) throw new SourceError('bad_format', `anchor id ${id} is beyond the ${dataset.train.count} training samples of ${dataset.name}`, { file: source });
    values.set(dataset.train.images.subarray(id * size, (id + 1) * size), i * size);
  }
  const builtinLabels = set.labels ?? Int32Array.from(set.ids, (id) => dataset.train.labels[id]!);
  return { shape, count, values, ids: BigUint64Array.from(set.ids, (id) => BigInt(id)), labels: builtinLabels };
}
