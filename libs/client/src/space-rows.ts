import { RlsaError } from '@rlsa/core';
import type { MergedChunk } from '@rlsa/proto';
import { decodeMatrix, sampleIdsFromBytes } from '@rlsa/wire';
import type { DecodedMatrix } from '@rlsa/wire';

/** A space read back: rows in ascending sample id order (or the order asked for). */
export interface SpaceRows {
  /** 64-bit sample ids, one per row. */
  sampleIds: BigUint64Array;
  values: DecodedMatrix;
  /** Trainer spaces averaged into each row (1 for a node's own space). */
  counts: Uint32Array;
  /** Label per row, -1 where unknown. */
  labels: Int32Array;
}

/** Concatenates streamed chunks into one set of rows. */
export function assembleRows(parts: readonly MergedChunk[]): SpaceRows {
  let total = 0;
  let cols = 0;
  const ids = parts.map((part) => sampleIdsFromBytes(part.sampleIds));
  for (const [k, part] of parts.entries()) {
    total += (ids[k] as BigUint64Array).length;
    if (part.values !== undefined && part.values.cols > 0) cols = part.values.cols;
  }
  const sampleIds = new BigUint64Array(total);
  const counts = new Uint32Array(total);
  const labels = new Int32Array(total).fill(-1);
  const data = new Float32Array(total * cols);
  let offset = 0;
  for (const [k, part] of parts.entries()) {
    const partIds = ids[k] as BigUint64Array;
    const n = partIds.length;
    if (n === 0) continue;
    if (part.values === undefined) throw new RlsaError('invalid_argument', 'a streamed chunk has sample ids but no values');
    const values = decodeMatrix(part.values, { expectedCols: cols });
    if (values.rows !== n) throw new RlsaError('shape_mismatch', `a streamed chunk has ${n} ids for ${values.rows} rows`);
    sampleIds.set(partIds, offset);
    if (part.contributors.length === n) counts.set(part.contributors, offset);
    if (part.labels.length === n) labels.set(part.labels, offset);
    data.set(values.data, offset * cols);
    offset += n;
  }
  return { sampleIds, values: { rows: total, cols, data }, counts, labels };
}
