import { imageSize, sampleIds, type ImageDataset, type Split } from '@rlsa/data';
import { SourceError } from './errors.ts';
import { rowPart, type RowReader } from './row-part.ts';
import type { DataSource, SampleShape, SourcePart } from './sample.ts';

/** Which samples of a built-in data set a node holds: indices into its splits (default: all). */
export interface BuiltinParts {
  readonly train?: ArrayLike<number>;
  readonly test?: ArrayLike<number>;
}

/**
 * A built-in data set (`@rlsa/data`) as a source: the given indices of its training and test
 * splits, with the ids every node and the aggregator already agree on (`sampleIds`: train i → i,
 * test j → 10⁶ + j, as 64-bit values) and the data set's labels. The data set is in memory
 * already; batches are copies of its rows.
 */
export function builtinSource(dataset: ImageDataset, parts: BuiltinParts = {}): DataSource {
  const [height, width, channels] = dataset.shape;
  const shape: SampleShape = { kind: 'image', height, width, channels };
  const part = (split: Split, indices: ArrayLike<number> | undefined): SourcePart => {
    const source = dataset[split];
    const rows = indices === undefined ? Uint32Array.from({ length: source.count }, (_, i) => i) : Uint32Array.from(indices);
    for (const row of rows) {
      if (row >= source.count) throw new SourceError('invalid_argument', `${split} index ${row} is beyond the ${source.count} samples of ${dataset.name}`);
    }
    const size = imageSize(dataset);
    const reader: RowReader = {
      shape,
      read: (batch) => {
        const out = new Uint8Array(batch.length * size);
        for (let k = 0; k < batch.length; k++) out.set(source.images.subarray(batch[k]! * size, (batch[k]! + 1) * size), k * size);
        return Promise.resolve(out);
      },
    };
    const ids = BigUint64Array.from(sampleIds(split, rows), (id) => BigInt(id));
    return rowPart(reader, rows, ids, Int32Array.from(rows, (row) => source.labels[row]!));
  };
  const train = part('train', parts.train);
  const test = part('test', parts.test);
  return {
    description: `builtin:${dataset.name} (${train.count} train, ${test.count} test, ${dataset.numClasses} classes, ${height}×${width}×${channels}, from ${dataset.source})`,
    shape,
    classNames: dataset.classNames,
    train,
    test,
    testOrigin: 'source',
    duplicates: [],
    close: () => undefined,
  };
}
