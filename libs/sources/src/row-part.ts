import { SourceError } from './errors.ts';
import type { BatchOptions, SampleBatch, SampleShape, SourcePart } from './sample.ts';

/** Reads the values of some rows of a source (ascending row numbers), count × sampleSize(shape). */
export interface RowReader {
  readonly shape: SampleShape;
  read(rows: Uint32Array): Promise<Uint8Array | Float32Array>;
}

/**
 * A part made of some rows of a reader: `rows[k]` is the reader's row of the part's k-th sample,
 * whose id and label are `ids[k]` and `labels[k]`. Batches are read `prefetch` ahead, so memory
 * holds at most prefetch + 1 batches besides the caller's.
 */
export function rowPart(reader: RowReader, rows: Uint32Array, ids: BigUint64Array, labels: Int32Array): SourcePart {
  if (ids.length !== rows.length || labels.length !== rows.length) {
    throw new SourceError('internal', `a part of ${rows.length} rows got ${ids.length} ids and ${labels.length} labels`);
  }
  const count = rows.length;
  const read = (start: number, batchSize: number): Promise<SampleBatch> => {
    const end = Math.min(count, start + batchSize);
    return reader.read(rows.subarray(start, end)).then((values) => ({
      shape: reader.shape,
      count: end - start,
      values,
      ids: ids.subarray(start, end),
      labels: labels.subarray(start, end),
    }));
  };
  return {
    count,
    ids,
    labels,
    async *batches(batchSize: number, options: BatchOptions = {}): AsyncGenerator<SampleBatch> {
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new SourceError('invalid_argument', `batch size must be a positive integer, got ${batchSize}`);
      const prefetch = options.prefetch ?? 1;
      const ahead: Promise<SampleBatch>[] = [];
      let next = 0;
      const fill = (inFlight: number): void => {
        while (next < count && ahead.length < inFlight) {
          const pending = read(next, batchSize);
          // A read-ahead the caller never awaits (it stopped early) must not be an unhandled rejection.
          pending.catch(() => undefined);
          ahead.push(pending);
          next += batchSize;
        }
      };
      for (;;) {
        fill(Math.max(1, prefetch));
        const pending = ahead.shift();
        if (pending === undefined) return;
        const batch = await pending;
        // Start the next reads before handing this batch over, so they overlap the caller's work.
        fill(prefetch);
        yield batch;
      }
    },
  };
}
