import type { SlabSource } from './slab-prefaulter.ts';

/** Bytes of one arena: several slabs share one allocation, so that most of it lies in aligned 2 MB pages. */
const DEFAULT_ARENA_BYTES = 64 * 1024 * 1024;

/**
 * Slabs of merged sums cut from large arenas backed by transparent huge pages. On this kind of VM
 * the first write into each fresh 4 KB page costs 15–20 µs, so touching 412 MB of new sums cost
 * about 1.3 s; with `madvise(MADV_HUGEPAGE)` on a 64 MB arena before its first touch the same
 * memory costs about 0.2 s (one fault per 2 MB). Only the 2 MB-aligned interior of an allocation
 * can be huge, hence arenas rather than one advice per 8 MB slab (which recovered about half).
 *
 * `advise` is the native call (`adviseHugePages` of @rlsa/linalg-native); it changes only the
 * paging policy of the memory, never its contents, so a slab is zero-filled like a fresh array.
 * An arena's unused tail is never touched, so it costs address space, not memory.
 */
export class HugePageSlabs implements SlabSource {
  private arena: Float64Array | null = null;
  private used = 0;

  constructor(
    private readonly advise: (view: Float64Array) => void,
    private readonly arenaBytes = DEFAULT_ARENA_BYTES,
  ) {}

  take(bytes: number): Float64Array | undefined {
    const length = bytes / 8;
    if (!Number.isInteger(length) || length <= 0) return undefined;
    if (this.arena === null || this.used + length > this.arena.length) {
      // Whole slabs per arena, at least one.
      const slabs = Math.max(1, Math.floor(this.arenaBytes / bytes));
      this.arena = new Float64Array(slabs * length);
      this.advise(this.arena);
      this.used = 0;
    }
    const slab = this.arena.subarray(this.used, this.used + length);
    this.used += length;
    return slab;
  }

  async stop(): Promise<void> {
    this.arena = null;
  }
}
