import type { ChunkRow } from './schema.ts';

/** A committed chunk: the commit's duration. */
export interface Committed {
  seconds: number;
}

/** Payload buffers a sink reads without a copy (SharedPayloads for the writer thread). */
export interface PayloadBuffers {
  /** A view of `bytes` bytes (contents undefined) to fill with a chunk's stored data. */
  take(bytes: number): Uint8Array;
  /** Gives back a view from `take`, once its write settled and nothing reads it any more. */
  give(view: Uint8Array): void;
}

/**
 * Where accepted chunks go to be stored durably (the ChunkWriter's thread; a fake in the
 * ledger's scenarios): the narrow interface the ingest needs of storage.
 */
export interface ChunkSink {
  /**
   * Buffers for `row.data`: a payload written into one of them is stored without being copied or
   * moved (the writer thread reads the same memory).
   */
  readonly payloads: PayloadBuffers;
  /**
   * Commits `row`; resolves once it is durable. When `row.data` views a buffer from `payloads`,
   * the sink reads that memory until the promise settles: the caller must not change it before
   * then (reading it is fine), and gives it back after. Any other buffer of `row` is copied
   * before `write` returns.
   */
  write(row: ChunkRow): Promise<Committed>;
  /** Resolves when every write handed over so far has settled. */
  drain(): Promise<void>;
}
