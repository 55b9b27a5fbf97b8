/** Decode buffers kept for reuse: about the chunks in flight across all upload streams. */
const POOL_SIZE = 32;
/** Values of the largest pooled buffer (16 MB of float32); a rarer, larger chunk gets its own. */
export const POOLED_MAX_VALUES = 4 * 1024 * 1024;

/**
 * Float32 buffers for decoded chunk values, which live from validation to the merge after the
 * commit: reusing them avoids a megabyte allocation (and its page faults) per chunk.
 */
export class BufferPool {
  private readonly free: Float32Array[] = [];

  /** A buffer of at least `values` floats, or undefined above POOLED_MAX_VALUES (the decoder allocates). */
  take(values: number): Float32Array | undefined {
    if (values > POOLED_MAX_VALUES) return undefined;
    const at = this.free.findIndex((candidate) => candidate.length >= values);
    if (at < 0) return new Float32Array(values);
    return this.free.splice(at, 1)[0];
  }

  give(buffer: Float32Array | undefined): void {
    if (buffer !== undefined && this.free.length < POOL_SIZE) this.free.push(buffer);
  }
}
