import { nativeAddFloat32ToFloat64, type AddFloat32ToFloat64 } from '@rlsa/linalg-native';
import { SampleIndex } from '../ledger/sample-index.ts';
import type { MergedSpace, MergeStrategy } from './merge-strategy.ts';
import type { MergedSnapshot } from './merged-snapshot.ts';
import type { SlabSource } from './slab-prefaulter.ts';

/** The addon's row accumulator (about twice the JS loop's speed on these memory-bound rows), or null. */
const NATIVE_ADD = nativeAddFloat32ToFloat64();

/** Rows per slab: growth allocates one slab, never copies the existing sums. */
const SLAB_ROWS = 1024;

/** The mean merge rule (the paper's): the merged row of a sample is the mean of its trainer rows. */
export function meanMerge(slabs?: SlabSource): MergeStrategy {
  return { name: 'mean', create: (width) => new MergedSums(width, slabs) };
}

/**
 * The mean merged space of a run, held compactly: for each sample id, the float64 sum of the
 * trainer rows received for it and their count (the number of trainer spaces containing it).
 * The merged row is sum / count (the per-sample mean over trainer spaces); no per-node copy
 * is kept in memory (the per-node rows live on disk).
 *
 * Memory: 8·width + 20 bytes per sample in slabs of 1,024 rows, plus the id index (SampleIndex,
 * 24 to 49 bytes per sample): no limit on the number of samples but memory.
 *
 * A sample is placed (its slot, id and label) when its chunk commits and its row added when the
 * chunk is merged, which may trail the commit (`DeferredMerge`); reads see the slots below
 * `publish`'s mark whose count is not 0, so a sample is read only with its merged contributions.
 *
 * The slabs are SharedArrayBuffers, so that the read threads see the sums without a copy
 * (`snapshot`): ids are written once, before a slot is published; a row's sums, count and
 * label change only between two increments of the slot's version (odd while it changes), which a
 * reader checks around its read (a sequence lock: `merged-snapshot.ts`). The event loop never waits.
 */
export class MergedSums implements MergedSpace {
  private readonly slotOf = new SampleIndex();
  private readonly sumSlabs: Float64Array[] = [];
  private readonly countSlabs: Uint32Array[] = [];
  private readonly labelSlabs: Int32Array[] = [];
  /** Each slot's id as two 32-bit halves (low, high): a slab's view as BigUint64Array gives the ids. */
  private readonly idSlabs: Uint32Array[] = [];
  /** Per slot, a version incremented before and after each change of its row (odd: changing). */
  private readonly versionSlabs: Int32Array[] = [];
  private size = 0;
  /** Slots visible to reads (`publish`): every slot below it has had its contributions merged. */
  private visible = 0;
  /** Slots with a contribution merged (all below `visible`: a merged chunk publishes its slots at once). */
  private readable = 0;
  private added = 0;
  /** New samples reserved for chunks being stored (see `reserve`). */
  private pending = 0;

  private readonly addRow: AddFloat32ToFloat64 | null;

  /**
   * `slabs`: where new slabs of sums come from when prepared ahead (SlabPrefaulter); by default they
   * are allocated here. `native: false` adds rows in JavaScript even where the addon is available
   * (the results are identical; tests compare the two).
   */
  constructor(
    readonly width: number,
    private readonly slabs?: SlabSource,
    options: { native?: boolean } = {},
  ) {
    this.addRow = options.native === false ? null : NATIVE_ADD;
  }

  /** Distinct samples placed (see `place`). */
  get sampleCount(): number {
    return this.size;
  }

  get readableCount(): number {
    return this.readable;
  }

  get contributions(): number {
    return this.added;
  }

  /** Bytes held by the sums, counts, labels and ids, and the id index. */
  get bytes(): number {
    return this.countSlabs.length * SLAB_ROWS * (this.width * 8 + 20) + this.slotOf.bytes;
  }

  holds(low: number, high: number): boolean {
    return this.slotOf.has(low, high);
  }

  has(low: number, high: number): boolean {
    return this.readableSlot(low, high) >= 0;
  }

  /** The sample's slot when reads see it (published, with a contribution merged), else -1. */
  private readableSlot(low: number, high: number): number {
    const slot = this.slotOf.get(low, high);
    if (slot < 0 || slot >= this.visible) return -1;
    return this.countOf(slot) > 0 ? slot : -1;
  }

  /** Contributions merged into slot `slot` (0: placed, nothing merged yet, or its only chunk could not be). */
  private countOf(slot: number): number {
    return (this.countSlabs[Math.floor(slot / SLAB_ROWS)] as Uint32Array)[slot % SLAB_ROWS] as number;
  }

  /** Room for `samples` more new samples besides those already reserved: the index and the slabs grow now, not in `add`. */
  reserve(samples: number): void {
    const needed = this.size + this.pending + samples;
    this.slotOf.reserve(needed - this.slotOf.size);
    while (this.countSlabs.length * SLAB_ROWS < needed) this.grow();
    this.pending += samples;
  }

  release(samples: number): void {
    this.pending = Math.max(0, this.pending - samples);
  }

  get reservedSamples(): number {
    return this.pending;
  }

  /**
   * Adds row `row` of `values` (rows × width, row-major) as one contribution to sample (low, high).
   * `label` < 0 means unknown; the first known label of a sample is kept.
   */
  add(low: number, high: number, values: Float32Array, row: number, label: number): void {
    this.addAt(this.place(low, high, label), values, row);
    this.visible = this.size;
  }

  place(low: number, high: number, label: number): number {
    let slot = this.slotOf.get(low, high);
    if (slot < 0) slot = this.newSlot(low, high);
    const slab = Math.floor(slot / SLAB_ROWS);
    const local = slot % SLAB_ROWS;
    const labels = this.labelSlabs[slab] as Int32Array;
    if ((labels[local] as number) < 0 && label >= 0) {
      const versions = this.versionSlabs[slab] as Int32Array;
      Atomics.add(versions, local, 1);
      labels[local] = label;
      Atomics.add(versions, local, 1);
    }
    return slot;
  }

  publish(slots: number): void {
    this.visible = Math.max(this.visible, Math.min(slots, this.size));
  }

  /** Adds row `row` of `values` (rows × width) to slot `slot`'s sums: one more contribution. */
  addAt(slot: number, values: Float32Array, row: number): void {
    const slab = Math.floor(slot / SLAB_ROWS);
    const local = slot % SLAB_ROWS;
    const sums = this.sumSlab(slab);
    const width = this.width;
    const base = local * width;
    const from = row * width;
    const versions = this.versionSlabs[slab] as Int32Array;
    Atomics.add(versions, local, 1);
    if (this.addRow !== null) {
      this.addRow(sums, base, values, from, width);
      this.count(slab, local);
      Atomics.add(versions, local, 1);
      return;
    }
    // Unrolled by 4 (about twice as fast in V8 as the plain loop); the rest one by one.
    const end4 = width - (width % 4);
    let c = 0;
    for (; c < end4; c += 4) {
      const i = base + c;
      const j = from + c;
      sums[i] = (sums[i] as number) + (values[j] as number);
      sums[i + 1] = (sums[i + 1] as number) + (values[j + 1] as number);
      sums[i + 2] = (sums[i + 2] as number) + (values[j + 2] as number);
      sums[i + 3] = (sums[i + 3] as number) + (values[j + 3] as number);
    }
    for (; c < width; c += 1) sums[base + c] = (sums[base + c] as number) + (values[from + c] as number);
    this.count(slab, local);
    Atomics.add(versions, local, 1);
  }

  /** A slot for a new sample (in a slab reserved before, or grown now). */
  private newSlot(low: number, high: number): number {
    const slot = this.size;
    if (slot >= this.countSlabs.length * SLAB_ROWS) this.grow();
    this.size += 1;
    this.slotOf.set(low, high, slot);
    const ids = this.idSlabs[Math.floor(slot / SLAB_ROWS)] as Uint32Array;
    ids[2 * (slot % SLAB_ROWS)] = low;
    ids[2 * (slot % SLAB_ROWS) + 1] = high;
    (this.labelSlabs[Math.floor(slot / SLAB_ROWS)] as Int32Array)[slot % SLAB_ROWS] = -1;
    return slot;
  }

  /** One more contribution to the sample in `slab` at `local`. */
  private count(slab: number, local: number): void {
    const counts = this.countSlabs[slab] as Uint32Array;
    if (counts[local] === 0) this.readable += 1;
    counts[local] = (counts[local] as number) + 1;
    this.added += 1;
  }

  /**
   * The sums of slab `slab`, allocated at its first row merged (not when its slots are placed):
   * a merge that trails the commits touches the fresh memory after the upload, not during it.
   */
  private sumSlab(slab: number): Float64Array {
    while (this.sumSlabs.length <= slab) {
      const prepared = this.slabs?.take(SLAB_ROWS * this.width * 8);
      this.sumSlabs.push(prepared ?? new Float64Array(new SharedArrayBuffer(SLAB_ROWS * this.width * 8)));
    }
    return this.sumSlabs[slab] as Float64Array;
  }

  read(low: number, high: number, out: Float32Array, offset: number): { count: number; label: number } | undefined {
    return this.readMean(low, high, out, offset);
  }

  /** The sums: a sample's sum is its count times its mean, so it points along the merged row. */
  forEachDirection(visit: (low: number, high: number, direction: Float64Array, count: number, label: number) => void): void {
    this.forEachSum(visit);
  }

  /** Every sample id reads see, ascending. */
  sortedIds(): BigUint64Array {
    const ids = new BigUint64Array(this.visible);
    const words = new Uint32Array(ids.buffer);
    let n = 0;
    for (let slot = 0; slot < this.visible; slot += 1) {
      const slab = Math.floor(slot / SLAB_ROWS);
      const local = slot % SLAB_ROWS;
      if (this.countOf(slot) === 0) continue;
      const id = this.idSlabs[slab] as Uint32Array;
      words[2 * n] = id[2 * local] as number;
      words[2 * n + 1] = id[2 * local + 1] as number;
      n += 1;
    }
    return ids.subarray(0, n).sort();
  }

  /**
   * Writes the merged (mean) row of sample (low, high) into out[offset .. offset+width) as float32
   * and returns its count and label; undefined when the sample has no contribution.
   */
  readMean(low: number, high: number, out: Float32Array, offset: number): { count: number; label: number } | undefined {
    const slot = this.readableSlot(low, high);
    if (slot < 0) return undefined;
    const slab = Math.floor(slot / SLAB_ROWS);
    const local = slot % SLAB_ROWS;
    const sums = this.sumSlab(slab);
    const count = (this.countSlabs[slab] as Uint32Array)[local] as number;
    const base = local * this.width;
    for (let c = 0; c < this.width; c += 1) out[offset + c] = (sums[base + c] as number) / count;
    return { count, label: (this.labelSlabs[slab] as Int32Array)[local] as number };
  }

  /**
   * Calls `visit` for every sample with a view of its float64 sum row (valid only during the
   * call). Cosine similarity of a sum equals that of the mean, so searches need no division.
   */
  forEachSum(visit: (low: number, high: number, sum: Float64Array, count: number, label: number) => void): void {
    for (let slot = 0; slot < this.visible; slot += 1) {
      const slab = Math.floor(slot / SLAB_ROWS);
      const local = slot % SLAB_ROWS;
      if (this.countOf(slot) === 0) continue;
      const sums = this.sumSlab(slab);
      const ids = this.idSlabs[slab] as Uint32Array;
      visit(
        ids[2 * local] as number,
        ids[2 * local + 1] as number,
        sums.subarray(local * this.width, (local + 1) * this.width),
        (this.countSlabs[slab] as Uint32Array)[local] as number,
        (this.labelSlabs[slab] as Int32Array)[local] as number,
      );
    }
  }

  /**
   * The sums as the read threads see them: the shared slabs and the samples counted now. Posted to
   * a worker, the arrays share this memory (nothing is copied); rows are read under their version.
   */
  snapshot(): MergedSnapshot {
    const slabs = Math.ceil(this.visible / SLAB_ROWS);
    // Every visible slab gets its sums (zero where a slot's only chunk could not be merged).
    if (slabs > 0) this.sumSlab(slabs - 1);
    return {
      width: this.width,
      size: this.visible,
      slabRows: SLAB_ROWS,
      sums: this.sumSlabs.slice(0, slabs),
      counts: this.countSlabs.slice(0, slabs),
      labels: this.labelSlabs.slice(0, slabs),
      ids: this.idSlabs.slice(0, slabs),
      versions: this.versionSlabs.slice(0, slabs),
    };
  }

  private grow(): void {
    this.countSlabs.push(new Uint32Array(new SharedArrayBuffer(SLAB_ROWS * 4)));
    this.labelSlabs.push(new Int32Array(new SharedArrayBuffer(SLAB_ROWS * 4)));
    this.idSlabs.push(new Uint32Array(new SharedArrayBuffer(2 * SLAB_ROWS * 4)));
    this.versionSlabs.push(new Int32Array(new SharedArrayBuffer(SLAB_ROWS * 4)));
  }
}
