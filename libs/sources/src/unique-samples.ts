import { SourceError } from './errors.ts';
import { formatSampleId } from './content-id.ts';
import type { DroppedDuplicate } from './sample.ts';

/** What `uniqueSamples` needs of a scanned source: n samples with an id, a digest of their content and a name. */
export interface ScannedIds {
  /** One id per sample (content-derived or user-given). */
  readonly ids: BigUint64Array;
  /** One content id per sample (for content ids: the same as `ids`). */
  readonly contents: BigUint64Array;
  /** The sample's name for messages (a relative file path, `x.npy[12]`). */
  name(index: number): string;
}

/**
 * Which samples to keep so that every id is read once: a sample whose id and content equal an
 * earlier one's (in scan order) is dropped and listed; two samples with one id and different
 * contents are refused (`id_conflict`, naming both). Sorting, not a Map: memory is 4 bytes a
 * sample and there is no limit on the count.
 *
 * Returns the kept indices in scan order.
 */
export function uniqueSamples(scanned: ScannedIds, file: string): { keep: Uint32Array; duplicates: DroppedDuplicate[] } {
  const { ids, contents } = scanned;
  const n = ids.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // Ties keep scan order, so the first of equal ids is the one kept.
  order.sort((a, b) => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : a - b));
  const dropped = new Uint8Array(n);
  const duplicates: DroppedDuplicate[] = [];
  // Equal ids are adjacent in `order`, the earliest first: that one is kept.
  let kept = order[0]!;
  for (let k = 1; k < n; k++) {
    const next = order[k]!;
    if (ids[next] !== ids[kept]) {
      kept = next;
      continue;
    }
    if (contents[kept] !== contents[next]) {
      throw new SourceError(
        'id_conflict',
        `${scanned.name(kept)} and ${scanned.name(next)} have different contents but one id ${formatSampleId(ids[next]!)}`,
        { file },
      );
    }
    dropped[next] = 1;
    duplicates.push({ id: ids[next]!, kept: scanned.name(kept), dropped: scanned.name(next) });
  }
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (dropped[i] === 0) keep.push(i);
  return { keep: Uint32Array.from(keep), duplicates };
}
