import { RlsaError } from './errors.ts';
import { assertFinite, assertMatrix, type Matrix } from './matrix.ts';

/**
 * A merged space: for each sample id (ascending), the (weighted) mean of its rows over the
 * contributions that contained it, and how many contributions that was.
 */
export interface MergedSpace {
  /** Ascending, unique. */
  readonly sampleIds: Uint32Array;
  /** sampleIds.length × width, Float32. */
  readonly values: Matrix;
  /** Contributions per row (≥ 1). */
  readonly counts: Uint32Array;
}

const INITIAL_CAPACITY = 1024;

/**
 * Streaming per-sample (weighted) mean: m(id) = Σ_k w_k v_k(id) / Σ_k w_k over the
 * contributions k that contain `id`. Sums are kept in float64, so the result does not
 * depend on the order in which contributions arrive (to ~1e-12 relative, far inside 1e-6).
 * Memory: O(distinct ids × width) float64.
 */
export class MergeAccumulator {
  readonly width: number;
  private readonly index = new Map<number, number>();
  private ids = new Uint32Array(INITIAL_CAPACITY);
  private sums: Float64Array;
  private weights = new Float64Array(INITIAL_CAPACITY);
  private counts = new Uint32Array(INITIAL_CAPACITY);
  private size = 0;

  constructor(width: number) {
    if (!Number.isInteger(width) || width < 1) throw new RlsaError('invalid_argument', `width must be a positive integer, got ${width}`);
    this.width = width;
    this.sums = new Float64Array(INITIAL_CAPACITY * width);
  }

  /**
   * Adds one contribution: row r of `values` (sampleIds.length × width) belongs to sample
   * `sampleIds[r]`, with `weight` (> 0, default 1). Ids must be unique within one call and
   * integers in [0, 2³²). Validates everything before changing any state.
   */
  add(sampleIds: ArrayLike<number>, values: Matrix, weight = 1): void {
    assertMatrix(values, 'values');
    if (values.cols !== this.width) throw new RlsaError('shape_mismatch', `values have ${values.cols} columns, the accumulator ${this.width}`);
    if (values.rows !== sampleIds.length) {
      throw new RlsaError('shape_mismatch', `${sampleIds.length} sample ids for ${values.rows} rows`);
    }
    if (!Number.isFinite(weight) || weight <= 0) throw new RlsaError('invalid_argument', `weight must be finite and > 0, got ${weight}`);
    assertFinite(values, 'values');
    const seen = new Set<number>();
    for (let r = 0; r < sampleIds.length; r++) {
      const id = sampleIds[r]!;
      if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new RlsaError('invalid_argument', `sample id ${id} at row ${r} is not a uint32`);
      if (seen.has(id)) throw new RlsaError('invalid_argument', `sample id ${id} appears twice in one contribution`);
      seen.add(id);
    }
    const w = this.width;
    const v = values.data;
    for (let r = 0; r < sampleIds.length; r++) {
      const id = sampleIds[r]!;
      let slot = this.index.get(id);
      if (slot === undefined) {
        slot = this.size++;
        this.ensureCapacity(this.size);
        this.index.set(id, slot);
        this.ids[slot] = id;
      }
      const o = slot * w;
      const s = r * w;
      for (let c = 0; c < w; c++) this.sums[o + c]! += weight * v[s + c]!;
      this.weights[slot]! += weight;
      this.counts[slot]! += 1;
    }
  }

  /** Distinct sample ids seen so far. */
  get sampleCount(): number {
    return this.size;
  }

  /** The merged space so far (ids ascending). Throws `failed_precondition` before the first row. */
  result(): MergedSpace {
    if (this.size === 0) throw new RlsaError('failed_precondition', 'the merge accumulator has no rows yet');
    const order = Array.from({ length: this.size }, (_, i) => i).sort((p, q) => this.ids[p]! - this.ids[q]!);
    const w = this.width;
    const sampleIds = new Uint32Array(this.size);
    const counts = new Uint32Array(this.size);
    const data = new Float32Array(this.size * w);
    for (let r = 0; r < this.size; r++) {
      const slot = order[r]!;
      sampleIds[r] = this.ids[slot]!;
      counts[r] = this.counts[slot]!;
      const inv = 1 / this.weights[slot]!;
      const o = slot * w;
      for (let c = 0; c < w; c++) data[r * w + c] = this.sums[o + c]! * inv;
    }
    return { sampleIds, values: { rows: this.size, cols: w, data }, counts };
  }

  private ensureCapacity(needed: number): void {
    if (needed <= this.ids.length) return;
    const capacity = Math.max(needed, this.ids.length * 2);
    const grow = <T extends Uint32Array | Float64Array>(old: T, make: (n: number) => T, n: number): T => {
      const next = make(n);
      next.set(old);
      return next;
    };
    this.ids = grow(this.ids, (n) => new Uint32Array(n), capacity);
    this.weights = grow(this.weights, (n) => new Float64Array(n), capacity);
    this.counts = grow(this.counts, (n) => new Uint32Array(n), capacity);
    this.sums = grow(this.sums, (n) => new Float64Array(n), capacity * this.width);
  }
}
