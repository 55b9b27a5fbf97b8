import type { ChunkSink, Committed } from '../../src/storage/chunk-sink.ts';
import type { ChunkRow } from '../../src/storage/schema.ts';

interface Pending {
  row: ChunkRow;
  lend: boolean;
  resolve: (committed: Committed) => void;
  reject: (error: unknown) => void;
}

/**
 * A chunk sink whose commits the test settles one by one (`commitNext`, `failNext`), storing what
 * it committed (copied: a lent buffer goes back to the ingest's pool) for `getChunk`.
 */
export class FakeChunkSink implements ChunkSink {
  private readonly pending: Pending[] = [];
  private readonly stored = new Map<string, ChunkRow>();

  get waiting(): number {
    return this.pending.length;
  }

  write(row: ChunkRow, lend = false): Promise<Committed> {
    return new Promise((resolve, reject) => this.pending.push({ row, lend, resolve, reject }));
  }

  drain(): Promise<void> {
    return Promise.resolve();
  }

  /** Commits the oldest write: stored, then its promise resolves (a lent payload comes back). */
  commitNext(): void {
    const next = this.pending.shift();
    if (next === undefined) throw new Error('no write waits for its commit');
    const { row } = next;
    const copy = (b: Buffer | null): Buffer | null => (b === null ? null : Buffer.from(b));
    this.stored.set(key(row.runId, row.nodeId, row.space, row.seq), {
      ...row,
      sampleIds: Buffer.from(row.sampleIds),
      data: Buffer.from(row.data),
      rowScales: copy(row.rowScales),
      labels: copy(row.labels),
      counted: copy(row.counted),
    });
    next.resolve(next.lend ? { seconds: 0.001, data: row.data } : { seconds: 0.001 });
  }

  /** Fails the oldest write (a storage failure): nothing is stored. */
  failNext(error: unknown): void {
    const next = this.pending.shift();
    if (next === undefined) throw new Error('no write waits for its commit');
    next.reject(error);
  }

  getChunk(runId: string, nodeId: string, space: number, seq: number): ChunkRow | undefined {
    return this.stored.get(key(runId, nodeId, space, seq));
  }

  get storedChunks(): number {
    return this.stored.size;
  }
}

function key(runId: string, nodeId: string, space: number, seq: number): string {
  return JSON.stringify([runId, nodeId, space, seq]);
}
