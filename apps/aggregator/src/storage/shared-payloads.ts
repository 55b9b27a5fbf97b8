/** The smallest buffer the pool makes (smaller payloads share its size class). */
const MIN_CLASS_BYTES = 64 * 1024;
/** Free buffers kept for reuse, in bytes; beyond that a buffer given back is dropped. */
export const DEFAULT_MAX_FREE_BYTES = 32 * 1024 * 1024;

/** Where a shared payload lies: the buffer's id (as the writer thread knows it) and the bytes in it. */
export interface SharedRef {
  readonly id: number;
  readonly byteOffset: number;
  readonly byteLength: number;
}

/** What the pool tells the thread that reads its buffers: a buffer to know by id, and one it may drop. */
export interface SharedPayloadEvents {
  share(id: number, buffer: SharedArrayBuffer): void;
  unshare(id: number): void;
}

/**
 * Payload buffers shared with the chunk writer's thread: SharedArrayBuffers, each posted to the
 * thread once (`share`) and from then on named by id, so that handing a chunk's payload over costs
 * no copy, no transfer and no new ArrayBuffer on either side (a buffer moved to the thread and back
 * is a new ArrayBuffer in each isolate each time: a megabyte per chunk of external memory that V8
 * counts towards its next GC). Buffers come in power-of-two sizes and are reused; at most
 * `maxFreeBytes` of them wait free, the rest are dropped (and the thread told).
 */
export class SharedPayloads {
  private readonly free = new Map<number, SharedArrayBuffer[]>();
  private readonly ids = new WeakMap<SharedArrayBuffer, number>();
  private freeBytes = 0;
  private nextId = 0;

  constructor(
    private readonly events: SharedPayloadEvents,
    private readonly maxFreeBytes = DEFAULT_MAX_FREE_BYTES,
  ) {}

  /** A view of `bytes` bytes at the start of a shared buffer (its contents are whatever it held before). */
  take(bytes: number): Uint8Array {
    const size = classBytes(bytes);
    let buffer = this.free.get(size)?.pop();
    if (buffer === undefined) {
      buffer = new SharedArrayBuffer(size);
      const id = this.nextId++;
      this.ids.set(buffer, id);
      this.events.share(id, buffer);
    } else {
      this.freeBytes -= size;
    }
    return new Uint8Array(buffer, 0, bytes);
  }

  /** Gives back a view from `take` (nothing may read or write it any more). */
  give(view: Uint8Array): void {
    const buffer = view.buffer;
    if (!(buffer instanceof SharedArrayBuffer)) return;
    const id = this.ids.get(buffer);
    if (id === undefined) return;
    if (this.freeBytes + buffer.byteLength > this.maxFreeBytes) {
      this.ids.delete(buffer);
      this.events.unshare(id);
      return;
    }
    let list = this.free.get(buffer.byteLength);
    if (list === undefined) {
      list = [];
      this.free.set(buffer.byteLength, list);
    }
    list.push(buffer);
    this.freeBytes += buffer.byteLength;
  }

  /** Where `view` lies, when it views one of the pool's buffers; undefined otherwise. */
  refOf(view: Uint8Array): SharedRef | undefined {
    const buffer = view.buffer;
    if (!(buffer instanceof SharedArrayBuffer)) return undefined;
    const id = this.ids.get(buffer);
    return id === undefined ? undefined : { id, byteOffset: view.byteOffset, byteLength: view.byteLength };
  }
}

/** The power of two ≥ bytes (at least MIN_CLASS_BYTES). */
function classBytes(bytes: number): number {
  let size = MIN_CLASS_BYTES;
  while (size < bytes) size *= 2;
  return size;
}
