import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { ChunkDamage } from './chunk-damage.ts';
import { decodeRecord, describeFault } from './chunk-record.ts';
import type { ChunkIndexRow, ChunkRow } from './schema.ts';

/** A chunk read back: its row, or why it is damaged. */
export type ReadOutcome = { row: ChunkRow } | { damage: ChunkDamage };

/**
 * Reads chunk records from segment files by their index row, checking each (checksum, then every
 * header field against the index) on every read. Files stay open (one descriptor per segment)
 * until the run is closed. Synchronous, with no state but the descriptors: usable on the event
 * loop and in a worker thread alike.
 */
export class SegmentReader {
  private readonly files = new Map<string, { fd: number; runId: string }>();

  constructor(private readonly dataDir: string) {}

  /** The chunk `index` describes, in a buffer of its own (the row's buffers view it), or its damage. */
  read(index: ChunkIndexRow): ReadOutcome {
    const damaged = (reason: string): ReadOutcome => ({ damage: { runId: index.runId, nodeId: index.nodeId, space: index.space, seq: index.seq, reason } });
    let fd: number;
    try {
      fd = this.fd(index);
    } catch (error: unknown) {
      return damaged(`segment ${index.path} cannot be opened: ${(error as Error).message}`);
    }
    // A buffer of its own, not from Buffer's pool: the payload views in it stay aligned as written.
    const record = Buffer.from(new ArrayBuffer(index.length));
    let read = 0;
    try {
      while (read < index.length) {
        const n = readSync(fd, record, read, index.length - read, index.offset + read);
        if (n === 0) break;
        read += n;
      }
    } catch (error: unknown) {
      return damaged(`reading ${index.path} at ${index.offset} failed: ${(error as Error).message}`);
    }
    if (read < index.length) return damaged(`segment ${index.path} ends before the record at ${index.offset} (${read} of ${index.length} bytes)`);
    const decoded = decodeRecord(record, index);
    return 'kind' in decoded ? damaged(`${describeFault(decoded)} at ${index.path}:${index.offset}`) : { row: decoded };
  }

  /** Closes the run's segment files. */
  closeRun(runId: string): void {
    for (const [path, file] of this.files) {
      if (file.runId !== runId) continue;
      closeSync(file.fd);
      this.files.delete(path);
    }
  }

  close(): void {
    for (const file of this.files.values()) closeSync(file.fd);
    this.files.clear();
  }

  private fd(index: ChunkIndexRow): number {
    let file = this.files.get(index.path);
    if (file === undefined) {
      file = { fd: openSync(join(this.dataDir, index.path), 'r'), runId: index.runId };
      this.files.set(index.path, file);
    }
    return file.fd;
  }
}
