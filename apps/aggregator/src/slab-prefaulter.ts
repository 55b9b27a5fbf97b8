import { Worker } from 'node:worker_threads';

/** Where MergedSums gets the memory of a new slab of float64 sums. */
export interface SlabSource {
  /** A zero-filled view of exactly `bytes` bytes, cheap to touch for the first time, or undefined (the caller allocates one). */
  take(bytes: number): Float64Array | undefined;
  /** Releases the source's resources (a worker thread); slabs already taken stay valid. */
  stop(): Promise<void>;
}

/** Slabs kept ready per slab size. */
const DEFAULT_AHEAD = 2;

// Plain JavaScript evaluated as a CommonJS worker (the worker has no TypeScript loader).
// It allocates a zero-filled SharedArrayBuffer and writes a zero into every page, so that the
// kernel maps the pages here and not in the event loop's first `+=` into a fresh slab.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (message) => {
  if (message.kind === 'stop') { parentPort.close(); return; }
  const buffer = new SharedArrayBuffer(message.bytes);
  const view = new Uint8Array(buffer);
  for (let i = 0; i < message.bytes; i += 4096) view[i] = 0;
  parentPort.postMessage({ bytes: message.bytes, buffer });
});
`;

/**
 * Prepares the next slabs of the merged sums in a worker thread. A new slab of 1,024 rows of
 * float64 sums is 8 MB (width 1,024); the first write into each of its 2,048 pages is a page
 * fault, and on a VM these cost tens of microseconds each: touching every page of a fresh slab
 * took about a third of the event loop's time while ingesting. The worker allocates the slabs
 * (SharedArrayBuffer, zero-filled, so the memory is the same for both threads) and touches their
 * pages ahead of need, on the other core; `take` hands a prepared one over, or undefined when
 * none of that size is ready (MergedSums then allocates its own, as without a prefaulter).
 * At most `ahead` prepared slabs per size wait unused (16 MB at width 1,024).
 */
export class SlabPrefaulter implements SlabSource {
  private readonly worker: Worker;
  private readonly ready = new Map<number, ArrayBufferLike[]>();
  /** Slabs requested from the worker and not yet back, per size. */
  private readonly requested = new Map<number, number>();
  private stopped = false;

  constructor(private readonly ahead = DEFAULT_AHEAD) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    this.worker.on('message', (message: { bytes: number; buffer: SharedArrayBuffer }) => {
      this.requested.set(message.bytes, (this.requested.get(message.bytes) ?? 1) - 1);
      if (this.stopped) return;
      let list = this.ready.get(message.bytes);
      if (list === undefined) {
        list = [];
        this.ready.set(message.bytes, list);
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
    if (this.stopped) return undefined;
    const buffer = this.ready.get(bytes)?.shift();
    this.refill(bytes);
    return buffer === undefined ? undefined : new Float64Array(buffer);
  }

  /** Prepared slabs of `bytes` waiting (for tests and metrics). */
  readyCount(bytes: number): number {
    return this.ready.get(bytes)?.length ?? 0;
  }

  /** Stops the worker; prepared slabs are dropped. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.ready.clear();
    await this.worker.terminate();
  }

  private refill(bytes: number): void {
    const waiting = (this.ready.get(bytes)?.length ?? 0) + (this.requested.get(bytes) ?? 0);
    for (let i = waiting; i < this.ahead; i += 1) {
      this.requested.set(bytes, (this.requested.get(bytes) ?? 0) + 1);
      this.worker.postMessage({ kind: 'request', bytes });
    }
  }
}
