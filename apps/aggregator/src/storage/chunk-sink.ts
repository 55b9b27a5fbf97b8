import type { ChunkRow } from './schema.ts';

/** A committed chunk: the commit's duration, and a lent payload back. */
export interface Committed {
  seconds: number;
  /** Lent payloads only: a view of `row.data`'s bytes in the returned buffer. */
  data?: Uint8Array;
}

/**
 * Where accepted chunks go to be stored durably (the ChunkWriter's thread; a fake in the
 * ledger's scenarios): the narrow interface the ingest needs of storage.
 */
export interface ChunkSink {
  /**
   * Commits `row`; resolves once it is durable. `lend`: row.data's whole ArrayBuffer may move to
   * the writer (no copy); the caller must not use it until the promise settles, and gets it back
   * in `Committed.data` (on a failure it is lost). Without `lend`, the caller's buffers stay its
   * own and are not referenced after `write` returns.
   */
  write(row: ChunkRow, lend?: boolean): Promise<Committed>;
  /** Resolves when every write handed over so far has settled. */
  drain(): Promise<void>;
}
