import type { MergedSnapshot } from './merged-snapshot.ts';

/**
 * The merged space of one run: how trainer rows of the same sample become one row. The seam
 * where a merge rule plugs in (the mean is `merged-sums.ts`; a weighted or trimmed mean, or a
 * median, would each be one module implementing this), as flower's `Strategy` and disco's
 * aggregators keep the rule apart from the transport.
 *
 * A sample id (unsigned 64-bit) is passed as its two 32-bit halves `low`, `high`, as id columns
 * hold them (`sampleIdWords`), so that no id becomes a BigInt on the hot path.
 */
export interface MergedSpace {
  /** Columns of every row (the run's anchors). */
  readonly width: number;
  /** Distinct samples placed (with a contribution committed, merged or about to be). */
  readonly sampleCount: number;
  /** Distinct samples reads see (with a contribution merged): the merged space's id set changes only with it. */
  readonly readableCount: number;
  /** Rows merged so far: the merged space's values change only with it (what a cached read depends on). */
  readonly contributions: number;
  /** Bytes of memory held for the merged rows (a metric). */
  readonly bytes: number;
  /**
   * Makes room for `samples` more new samples on top of those reserved before, so that adding
   * them allocates nothing and cannot fail (called before a chunk is stored; RESOURCE_EXHAUSTED
   * when there is no room, with nothing changed). `release` gives a reservation back once its
   * chunk was merged or rolled back.
   */
  reserve(samples: number): void;
  release(samples: number): void;
  /** New samples reserved (for chunks being stored) and not released yet. */
  readonly reservedSamples: number;
  /**
   * Adds row `row` of `values` (rows × width, row-major) as one trainer's contribution to
   * sample (low, high). `label` < 0 means unknown; the first known label of a sample is kept.
   */
  add(low: number, high: number, values: Float32Array, row: number, label: number): void;
  /**
   * The two halves of `add`, for a merge that trails the commits (`DeferredMerge`): `place` gives
   * the sample its slot now (counted in `sampleCount` and the quotas; its first known label kept),
   * `addAt` adds the row's values later, and `publish(slots)` makes the first `slots` slots
   * visible to reads. Slots are given in placement order, so the merged chunks' slots are a prefix.
   */
  place(low: number, high: number, label: number): number;
  addAt(slot: number, values: Float32Array, row: number): void;
  publish(slots: number): void;
  /** Whether the sample has a slot (placed, merged or not): what the quotas count. */
  holds(low: number, high: number): boolean;
  /** Whether the sample is visible to reads with at least one contribution merged. */
  has(low: number, high: number): boolean;
  /** Every sample id, ascending. */
  sortedIds(): BigUint64Array;
  /**
   * Writes the merged row of sample (low, high) into out[offset .. offset+width) as float32 and
   * returns its contributor count and label; undefined when the sample has no contribution.
   */
  read(low: number, high: number, out: Float32Array, offset: number): { count: number; label: number } | undefined;
  /**
   * Calls `visit` for every sample with a vector along its merged row (any positive multiple of
   * it, valid only during the call): what cosine searches need, without a division per sample.
   */
  forEachDirection(visit: (low: number, high: number, direction: Float64Array, count: number, label: number) => void): void;
  /**
   * The rows as read threads see them, without a copy: shared slabs of a row and a count per
   * sample (the merged row is row / count), each read under its version (`merged-snapshot.ts`).
   */
  snapshot(): MergedSnapshot;
}

/** A merge rule: makes the merged space of a new run of `width` anchors. */
export interface MergeStrategy {
  readonly name: string;
  create(width: number): MergedSpace;
}
