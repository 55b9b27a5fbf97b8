import type { Worker } from 'node:worker_threads';
import { startThread } from '../worker-thread.ts';
import type { PrefaultReply, PrefaultRequest, PrefaulterThreadData } from './slab-prefaulter-thread.ts';

/** Where MergedSums gets the memory of a new slab of float64 sums. */
export interface SlabSource {
  /** A zero-filled view of exactly `bytes` bytes, cheap to touch for the first time, or undefined (the caller allocates one). */
  take(bytes: number): Float64Array | undefined;
  /** Releases the source's resources (a worker thread); slabs already taken stay valid. */
  stop(): Promise<void>;
}

/** Arenas kept ready per slab size. */
const DEFAULT_AHEAD = 2;
/** Bytes of one arena: several slabs share one allocation, so that most of it lies in aligned 2 MB pages. */
const DEFAULT_ARENA_BYTES = 64 * 1024 * 1024;

/**
 * Prepares the memory of the merged sums' next slabs in a worker thread. A slab of 1,024 rows of
 * float64 sums is 8 MB (width 1,024); the first write into each of its 4 KB pages is a page fault,
 * and on a VM these cost 15–20 µs each: touching 412 MB of fresh sums took about 1.3–2.3 s of the
 * event loop while ingesting. The worker allocates arenas of several slabs (SharedArrayBuffer,
 * zero-filled, so the memory is the same for both threads), advises them for transparent huge pages
 * when `addonPath` (@rlsa/linalg-native's addon) loads — one fault per 2 MB where the host allows
 * it, which an arena's 2 MB-aligned interior mostly is — and touches their pages ahead of need, on
 * the other core. `take` cuts the next slab from a prepared arena, or returns undefined when none
 * is ready (MergedSums then allocates its own, as without a prefaulter). At most `ahead` prepared
 * arenas per slab size wait unused; an arena's untouched tail never costs memory.
 */
export class SlabPrefaulter implements SlabSource {
  private readonly worker: Worker;
  /** Prepared arenas per slab size, and the one being cut. */
  private readonly ready = new Map<number, SharedArrayBuffer[]>();
  private readonly current = new Map<number, { arena: Float64Array; used: number }>();
  /** Arenas requested from the worker and not yet back, per slab size. */
  private readonly requested = new Map<number, number>();
  private stopped = false;

  private readonly ahead: number;
  private readonly arenaBytes: number;

  /**
   * `ahead`: prepared arenas per slab size (default 2); `arenaBytes`: bytes of an arena (default
   * 64 MB, rounded down to whole slabs, at least one); `addonPath`: the native addon whose
   * `adviseHugePages` the worker calls, or null.
   */
  constructor(options: { ahead?: number; arenaBytes?: number; addonPath?: string | null } = {}) {
    this.ahead = options.ahead ?? DEFAULT_AHEAD;
    this.arenaBytes = options.arenaBytes ?? DEFAULT_ARENA_BYTES;
    const data: PrefaulterThreadData = { addonPath: options.addonPath ?? null };
    this.worker = startThread(new URL('./slab-prefaulter-thread.ts', import.meta.url), { ...data });
    this.worker.on('message', (message: PrefaultReply) => {
      const slabBytes = message.slabBytes;
      this.requested.set(slabBytes, (this.requested.get(slabBytes) ?? 1) - 1);
      if (this.stopped) return;
      let list = this.ready.get(slabBytes);
      if (list === undefined) {
        list = [];
        this.ready.set(slabBytes, list);
      }
      list.push(message.buffer);
    });
    // A failed worker only means slabs are allocated by the caller again.
    this.worker.on('error', () => {
      this.stopped = true;
    });
    this.worker.unref();
  }

  take(bytes: number): Float64Array | undefined {
    if (this.stopped || bytes <= 0 || bytes % 8 !== 0) return undefined;
    const length = bytes / 8;
    let cut = this.current.get(bytes);
    if (cut === undefined || cut.used + length > cut.arena.length) {
      const next = this.ready.get(bytes)?.shift();
      this.refill(bytes);
      if (next === undefined) {
        this.current.delete(bytes);
        return undefined;
      }
      cut = { arena: new Float64Array(next), used: 0 };
      this.current.set(bytes, cut);
    }
    const slab = cut.arena.subarray(cut.used, cut.used + length);
    cut.used += length;
    return slab;
  }

  /** Prepared arenas for slabs of `bytes` waiting (for tests and metrics). */
  readyCount(bytes: number): number {
    return this.ready.get(bytes)?.length ?? 0;
  }

  /** Stops the worker; prepared arenas are dropped (slabs already taken stay valid). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.ready.clear();
    this.current.clear();
    await this.worker.terminate();
  }

  private refill(bytes: number): void {
    const waiting = (this.ready.get(bytes)?.length ?? 0) + (this.requested.get(bytes) ?? 0);
    // Whole slabs per arena, at least one.
    const arenaBytes = Math.max(1, Math.floor(this.arenaBytes / bytes)) * bytes;
    for (let i = waiting; i < this.ahead; i += 1) {
      this.requested.set(bytes, (this.requested.get(bytes) ?? 0) + 1);
      this.worker.postMessage({ kind: 'request', bytes: arenaBytes, slabBytes: bytes } satisfies PrefaultRequest);
    }
  }
}
