import { AggregatorError } from '../errors.ts';

/**
 * A map from 64-bit sample ids to non-negative numbers (a row, a slot, a packed chunk
 * reference), in typed arrays: open addressing with linear probing, keys as their two 32-bit
 * halves, deletion by backward shift (no tombstones). Unlike a JavaScript `Map` it has no
 * 2²⁴-entry ceiling, allocates nothing per entry and never turns an id into a BigInt.
 *
 * Memory: 17 bytes per slot (8 key, 8 value, 1 occupancy); the table doubles past 70 % load, so
 * 24 to 49 bytes per entry. Growth is explicit through `reserve` where the caller must not fail
 * later (the ingest reserves before a chunk is stored); `set` grows by itself otherwise.
 * A table above MAX_SAMPLE_INDEX_SLOTS is refused with RESOURCE_EXHAUSTED.
 */
export class SampleIndex {
  private keys: Uint32Array;
  private values: Float64Array;
  private used: Uint8Array;
  private mask: number;
  private count = 0;

  constructor(expected = 0) {
    const slots = slotsFor(expected);
    this.keys = new Uint32Array(2 * slots);
    this.values = new Float64Array(slots);
    this.used = new Uint8Array(slots);
    this.mask = slots - 1;
  }

  /** An index of `ids` to their positions (id i -> i); later duplicates overwrite earlier ones. */
  static positions(words: Uint32Array): SampleIndex {
    const index = new SampleIndex(words.length / 2);
    for (let i = 0; i < words.length / 2; i += 1) index.set(words[2 * i] as number, words[2 * i + 1] as number, i);
    return index;
  }

  /** Entries. */
  get size(): number {
    return this.count;
  }

  /** Bytes held by the table (a metric). */
  get bytes(): number {
    return this.used.length * 17;
  }

  /** The value of id (low, high), or -1 when absent. */
  get(low: number, high: number): number {
    const slot = this.find(low >>> 0, high >>> 0);
    return slot < 0 ? -1 : (this.values[slot] as number);
  }

  has(low: number, high: number): boolean {
    return this.find(low >>> 0, high >>> 0) >= 0;
  }

  /** Sets the value of id (low, high) (a non-negative number), inserting it if new; grows the table when needed. */
  set(low: number, high: number, value: number): void {
    if (!(value >= 0)) throw new AggregatorError('internal', `sample index values are non-negative, got ${value}`);
    if ((this.count + 1) * 10 > this.used.length * 7) this.resize(slotsFor(this.count + 1));
    const lo = low >>> 0;
    const hi = high >>> 0;
    let slot = hashOf(lo, hi) & this.mask;
    while (this.used[slot] === 1) {
      if (this.keys[2 * slot] === lo && this.keys[2 * slot + 1] === hi) {
        this.values[slot] = value;
        return;
      }
      slot = (slot + 1) & this.mask;
    }
    this.used[slot] = 1;
    this.keys[2 * slot] = lo;
    this.keys[2 * slot + 1] = hi;
    this.values[slot] = value;
    this.count += 1;
  }

  /** Removes id (low, high); false when it was absent. */
  delete(low: number, high: number): boolean {
    let hole = this.find(low >>> 0, high >>> 0);
    if (hole < 0) return false;
    this.count -= 1;
    // Backward shift: later entries of the probe run move into the hole when their home slot
    // does not lie (cyclically) after it, so that every remaining key stays reachable.
    for (let next = (hole + 1) & this.mask; this.used[next] === 1; next = (next + 1) & this.mask) {
      const home = hashOf(this.keys[2 * next] as number, this.keys[2 * next + 1] as number) & this.mask;
      if (((next - home) & this.mask) < ((next - hole) & this.mask)) continue;
      this.keys[2 * hole] = this.keys[2 * next] as number;
      this.keys[2 * hole + 1] = this.keys[2 * next + 1] as number;
      this.values[hole] = this.values[next] as number;
      hole = next;
    }
    this.used[hole] = 0;
    return true;
  }

  /** Removes every entry, keeping the table's size. */
  clear(): void {
    if (this.count === 0) return;
    this.used.fill(0);
    this.count = 0;
  }

  /**
   * Removes every entry and sizes the table for `expected` entries: a set reused for inputs of
   * varying size (the ids of one chunk) stays as small as the current one, so clearing it and
   * probing it touch a few kilobytes, not the table the largest input once needed.
   */
  clearFor(expected: number): void {
    const slots = slotsFor(expected);
    if (slots === this.used.length) {
      this.clear();
      return;
    }
    this.keys = new Uint32Array(2 * slots);
    this.values = new Float64Array(slots);
    this.used = new Uint8Array(slots);
    this.mask = slots - 1;
    this.count = 0;
  }

  /**
   * Makes room for `extra` more entries, so that inserting them allocates nothing (and so cannot
   * fail). RESOURCE_EXHAUSTED when the table would exceed MAX_SAMPLE_INDEX_SLOTS; nothing changes then.
   */
  reserve(extra: number): void {
    const needed = this.count + extra;
    if (needed * 10 > this.used.length * 7) this.resize(slotsFor(needed));
  }

  private find(lo: number, hi: number): number {
    let slot = hashOf(lo, hi) & this.mask;
    while (this.used[slot] === 1) {
      if (this.keys[2 * slot] === lo && this.keys[2 * slot + 1] === hi) return slot;
      slot = (slot + 1) & this.mask;
    }
    return -1;
  }

  private resize(slots: number): void {
    const { keys, values, used } = this;
    this.keys = new Uint32Array(2 * slots);
    this.values = new Float64Array(slots);
    this.used = new Uint8Array(slots);
    this.mask = slots - 1;
    this.count = 0;
    for (let slot = 0; slot < used.length; slot += 1) {
      if (used[slot] === 1) this.set(keys[2 * slot] as number, keys[2 * slot + 1] as number, values[slot] as number);
    }
  }
}

/** Slots of the largest table: 2³⁰ (about 750 million entries, 18 GB). */
export const MAX_SAMPLE_INDEX_SLOTS = 2 ** 30;

/** The power-of-two slot count that holds `entries` at ≤ 70 % load (at least 16). */
function slotsFor(entries: number): number {
  let slots = 16;
  while (entries * 10 > slots * 7) slots *= 2;
  if (slots > MAX_SAMPLE_INDEX_SLOTS) {
    throw new AggregatorError('resource_exhausted', `a sample index of ${entries} entries exceeds the limit of ${Math.floor(MAX_SAMPLE_INDEX_SLOTS * 0.7)}`);
  }
  return slots;
}

/**
 * Mixes an id's halves into 32 bits (murmur3's finalizer over low ^ high·φ): built-in ids are
 * consecutive small integers and must not fall into consecutive slots.
 */
function hashOf(lo: number, hi: number): number {
  let h = lo ^ Math.imul(hi, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
