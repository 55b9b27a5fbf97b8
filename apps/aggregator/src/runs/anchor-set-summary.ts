import { anchorCount, decodeAnchorSet } from '@rlsa/sources';
import type { AnchorSet } from '@rlsa/sources';
import type { AnchorSetSummaryView } from '@rlsa/wire';
import { AggregatorError } from '../errors.ts';

/**
 * What an anchor set holds, as a run config states it: its kind, count, per-anchor shape and
 * element type (array sets), whether it has labels and names, and the size of its encoding.
 */
export function anchorSetSummaryOf(set: AnchorSet, encodedSize: number): AnchorSetSummaryView {
  const extras = { hasLabels: set.labels !== undefined, hasNames: set.names !== undefined };
  if (set.kind !== 'array') return { size: encodedSize, count: anchorCount(set), kind: set.kind, shape: [], ...extras };
  const { shape } = set;
  return {
    size: encodedSize,
    count: anchorCount(set),
    kind: 'array',
    shape: shape.kind === 'image' ? [shape.height, shape.width, shape.channels] : [shape.width],
    dtype: set.values instanceof Uint8Array ? 'uint8' : 'float32',
    ...extras,
  };
}

/**
 * The summary of an encoded set (decoded strictly by @rlsa/sources: a set that is not a valid
 * canonical encoding is INVALID_ARGUMENT). Memory: the decoded set besides the encoding.
 */
export function summarizeEncodedAnchorSet(encoded: Uint8Array, source: string): AnchorSetSummaryView {
  let set: AnchorSet;
  try {
    set = decodeAnchorSet(encoded, source);
  } catch (error: unknown) {
    throw new AggregatorError('invalid_argument', (error as Error).message, { cause: error });
  }
  return anchorSetSummaryOf(set, encoded.byteLength);
}
