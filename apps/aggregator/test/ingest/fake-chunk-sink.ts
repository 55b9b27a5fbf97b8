import type { ChunkSink, Committed, PayloadBuffers } from '../../src/storage/chunk-sink.ts';
import type { ChunkRow } from '../../src/storage/schema.ts';

interface Pending {
  row: ChunkRow;
  resolve: (committed: Committed) => void;
  reject: (error: unknown) => void;
}

/** Payload buffers of the fake sink: plain memory, counted while taken (every one must come back). */
class CountedPayloads implements PayloadBuffers {
  private readonly out = new Set<Uint8Array>();

  get taken(): number {
    return this.out.size;
  }

  take(bytes: number): Uint8Array {
    const view = new Uint8Array(bytes);
    this.out.add(view);
    return view;
  }

  give(view: Uint8Array): void {
    if (!this.out.delete(view)) throw new Error('a payload buffer was given back twice, or was not taken');
  }
}

/**
 * A chunk sink whose commits the test settles one by one (`commitNext`, `failNext`), storing what
 * it committed (copied: the payload buffer goes back to the ingest) for `getChunk`.
 */
export class FakeChunkSink implements ChunkSink {
  private readonly pending: Pending[] = [];
  private readonly stored = new Map<string, ChunkRow>();
  readonly payloads = new CountedPayloads();

  get waiting(): number {
    return this.pending.length;
  }

  write(row: ChunkRow): Promise<Committed> {
    return new Promise((resolve, reject) => this.pending.push({ row, resolve, reject }));
  }

  drain(): Promise<void> {
    return Promise.resolve();
  }

  /** Commits the oldest write: stored, then its promise resolves. */
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
    next.resolve({ seconds: 0.001 });
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
