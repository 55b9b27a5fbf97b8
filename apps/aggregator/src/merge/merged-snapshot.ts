import type { MergedSpace } from './merge-strategy.ts';

/**
 * The mean merged sums of a run as another thread reads them (`MergedSums.snapshot`): slabs of
 * `slabRows` slots in SharedArrayBuffers, the first `size` slots counted. Slot s lives in slab
 * ⌊s / slabRows⌋ at s mod slabRows: its id (two 32-bit halves, written once), its float64 sum row
 * (width values), contributor count and label, which change only while its version is odd.
 */
export interface MergedSnapshot {
  width: number;
  size: number;
  slabRows: number;
  sums: Float64Array[];
  counts: Uint32Array[];
  labels: Int32Array[];
  ids: Uint32Array[];
  versions: Int32Array[];
}

/** Attempts at a consistent read of a row the event loop keeps changing, before reading it once more under no check. */
const MAX_READ_ATTEMPTS = 1_000;

/**
 * Reads a snapshot's rows from another thread, each consistent: the sequence lock's reader side
 * (version even and the same before and after the copy, else read again). The writer (the event
 * loop adding a trainer row) never waits; a reader retries only a row that changed under it.
 */
export class SnapshotReader implements Pick<MergedSpace, 'width' | 'forEachDirection'> {
  readonly width: number;
  private readonly scratch: Float64Array;

  constructor(private readonly snapshot: MergedSnapshot) {
    this.width = snapshot.width;
    this.scratch = new Float64Array(snapshot.width);
  }

  /** Slots (samples) in the snapshot. */
  get size(): number {
    return this.snapshot.size;
  }

  /** The id of slot `slot` as its halves (ids never change). */
  idOf(slot: number): { low: number; high: number } {
    const { slabRows, ids } = this.snapshot;
    const words = ids[Math.floor(slot / slabRows)] as Uint32Array;
    const local = slot % slabRows;
    return { low: words[2 * local] as number, high: words[2 * local + 1] as number };
  }

  /** Every slot's id (low, high), in slot order: the slots with a contribution merged (a count of 0 is a slot whose only chunk could not be merged). */
  forEachId(visit: (slot: number, low: number, high: number) => void): void {
    const { slabRows, ids, size, counts } = this.snapshot;
    for (let slot = 0; slot < size; slot += 1) {
      const words = ids[Math.floor(slot / slabRows)] as Uint32Array;
      const local = slot % slabRows;
      if (((counts[Math.floor(slot / slabRows)] as Uint32Array)[local] as number) === 0) continue;
      visit(slot, words[2 * local] as number, words[2 * local + 1] as number);
    }
  }

  /**
   * Copies slot `slot`'s sum row into `out` (width values from `offset`), consistently with the
   * count and label returned: sum / count is the merged (mean) row.
   */
  readSum(slot: number, out: Float64Array, offset = 0): { count: number; label: number } {
    const { slabRows, width } = this.snapshot;
    const slab = Math.floor(slot / slabRows);
    const local = slot % slabRows;
    const versions = this.snapshot.versions[slab] as Int32Array;
    const sums = this.snapshot.sums[slab] as Float64Array;
    const row = sums.subarray(local * width, (local + 1) * width);
    for (let attempt = 0; ; attempt += 1) {
      const before = Atomics.load(versions, local);
      const count = (this.snapshot.counts[slab] as Uint32Array)[local] as number;
      const label = (this.snapshot.labels[slab] as Int32Array)[local] as number;
      out.set(row, offset);
      if (((before & 1) === 0 && Atomics.load(versions, local) === before) || attempt >= MAX_READ_ATTEMPTS) return { count, label };
    }
  }

  /** Writes slot `slot`'s merged (mean) row into out[offset .. offset+width) as float32. */
  readMean(slot: number, out: Float32Array, offset: number): { count: number; label: number } {
    const read = this.readSum(slot, this.scratch);
    for (let c = 0; c < this.width; c += 1) out[offset + c] = (this.scratch[c] as number) / read.count;
    return read;
  }

  /** Every sample with its sum row (a copy, valid during the call): what cosine searches need. */
  forEachDirection(visit: (low: number, high: number, direction: Float64Array, count: number, label: number) => void): void {
    this.forEachId((slot, low, high) => {
      const { count, label } = this.readSum(slot, this.scratch);
      visit(low, high, this.scratch, count, label);
    });
  }
}
