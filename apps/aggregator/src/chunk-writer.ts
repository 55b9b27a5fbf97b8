import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { AggregatorError } from './errors.ts';
import type { ChunkRow, Durability } from './storage.ts';

/** A committed chunk: the commit's duration, and a lent payload back. */
export interface Committed {
  seconds: number;
  /** Lent payloads only: a view of `row.data`'s bytes in the returned buffer. */
  data?: Uint8Array;
}

/** Where chunks go to be committed; resolves once the chunk committed. */
export interface ChunkSink {
  /**
   * Commits `row`. `lend`: row.data's whole ArrayBuffer may move to the writer (no copy); the
   * caller must not use it until the promise settles, and gets it back in `Committed.data`
   * (on a failure it is lost). Without `lend`, the caller's buffers stay its own and are not
   * referenced after `write` returns.
   */
  write(row: ChunkRow, lend?: boolean): Promise<Committed>;
  /** Resolves when every write handed over so far has settled. */
  drain(): Promise<void>;
}

// Plain JavaScript evaluated as a CommonJS worker (the worker has no TypeScript loader).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = ' + workerData.synchronous);
db.pragma('busy_timeout = 10000');
db.pragma('foreign_keys = ON');
db.pragma('wal_autocheckpoint = 32768');
db.pragma('journal_size_limit = 16777216');
const insert = db.prepare(
  'INSERT INTO chunks (run_id, node_id, space, seq, rows, cols, encoding, sample_ids, data, row_scales, labels, counted, counted_rows) ' +
  'VALUES (@runId, @nodeId, @space, @seq, @rows, @cols, @encoding, @sampleIds, @data, @rowScales, @labels, @counted, @countedRows)');
const buffer = (u) => (u === null || u === undefined ? null : Buffer.from(u.buffer, u.byteOffset, u.byteLength));
const insertAll = db.transaction((items) => {
  for (const { row } of items) {
    insert.run({ ...row, sampleIds: buffer(row.sampleIds), data: buffer(row.data), rowScales: buffer(row.rowScales), labels: buffer(row.labels), counted: buffer(row.counted) });
  }
});
// Group commit: the chunks that arrived while the previous transaction ran are inserted in one
// transaction (at most MAX_BATCH); each is acknowledged only after that transaction committed.
const MAX_BATCH = workerData.maxBatch;
let queue = [];
let scheduled = false;
function commit() {
  scheduled = false;
  if (queue.length === 0) return;
  const items = queue.length <= MAX_BATCH ? queue : queue.slice(0, MAX_BATCH);
  queue = queue.length <= MAX_BATCH ? [] : queue.slice(MAX_BATCH);
  if (queue.length > 0) schedule();
  const ids = items.map((item) => item.id);
  const started = process.hrtime.bigint();
  try {
    insertAll(items);
  } catch (error) {
    parentPort.postMessage({ kind: 'done', ids, error: String((error && error.message) || error) });
    return;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // Lent payload buffers go back to the event loop (moved, not copied) for the merge and reuse.
  const data = items.map((item) => (item.lent ? item.row.data : null));
  parentPort.postMessage({ kind: 'done', ids, seconds, data }, items.filter((item) => item.lent).map((item) => item.row.data.buffer));
}
function schedule() {
  if (scheduled) return;
  scheduled = true;
  setImmediate(commit);
}
parentPort.on('message', (message) => {
  if (message.kind === 'stop') {
    while (queue.length > 0) commit();
    db.close();
    parentPort.postMessage({ kind: 'stopped' });
    return;
  }
  for (const item of message.items) queue.push(item);
  schedule();
});
`;

interface Pending {
  resolve: (committed: Committed) => void;
  reject: (error: unknown) => void;
}

interface OutgoingChunk {
  id: number;
  lent: boolean;
  row: ChunkRow;
}

/** Chunks per SQLite transaction, at most (group commit). */
export const MAX_CHUNKS_PER_COMMIT = 16;

/**
 * Commits chunks in a worker thread with its own SQLite connection, in the order handed over,
 * so that the event loop decodes, validates and merges the next chunks while others are being
 * written. Chunks handed over in one event-loop turn travel in one message, and the worker
 * inserts the chunks waiting for it in one transaction (group commit, at most
 * MAX_CHUNKS_PER_COMMIT); a chunk is acknowledged only when its promise resolved, i.e. after the
 * transaction holding it committed. A storage failure rejects the chunks of that transaction
 * and every later one with `internal` (none of them is stored: the transaction rolled back).
 */
export class ChunkWriter implements ChunkSink {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failed: AggregatorError | undefined;
  private drainWaiters: (() => void)[] = [];
  private outbox: OutgoingChunk[] = [];
  private outboxTransfer: ArrayBuffer[] = [];
  private flushScheduled = false;

  constructor(databasePath: string, durability: Durability) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver, path: databasePath, synchronous: durability === 'full' ? 'FULL' : 'NORMAL', maxBatch: MAX_CHUNKS_PER_COMMIT },
    });
    this.worker.on('message', (message: { kind: string; ids?: number[]; seconds?: number; data?: (Uint8Array | null)[]; error?: string }) => {
      if (message.kind !== 'done' || message.ids === undefined) return;
      message.ids.forEach((id, k) => {
        const waiter = this.pending.get(id);
        this.pending.delete(id);
        if (waiter === undefined) return;
        if (message.error !== undefined) {
          this.failed ??= new AggregatorError('internal', `storing a chunk failed: ${message.error}`);
          waiter.reject(this.failed);
        } else {
          const data = message.data?.[k];
          waiter.resolve(data === null || data === undefined ? { seconds: message.seconds ?? 0 } : { seconds: message.seconds ?? 0, data });
        }
      });
      this.settle();
    });
    const die = (reason: string): void => {
      this.failed ??= new AggregatorError('internal', `the chunk writer stopped: ${reason}`);
      for (const waiter of this.pending.values()) waiter.reject(this.failed);
      this.pending.clear();
      this.outbox = [];
      this.outboxTransfer = [];
      this.settle();
    };
    this.worker.on('error', (error: Error) => die(error.message));
    this.worker.on('exit', (code) => die(`exit ${code}`));
  }

  /** How many chunks are waiting for their commit. */
  get inFlight(): number {
    return this.pending.size;
  }

  write(row: ChunkRow, lend = false): Promise<Committed> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise<Committed>((resolve, reject) => {
      // Lent: the payload's buffer moves to the worker and back, no copy of the megabyte.
      // Otherwise it is copied once into a fresh buffer that moves (a structured clone would
      // copy it twice), and the caller's buffers stay its own.
      const data = lend ? new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength) : new Uint8Array(row.data);
      this.pending.set(id, { resolve, reject });
      this.outbox.push({ id, lent: lend, row: { ...row, data: data as Buffer } });
      this.outboxTransfer.push(data.buffer as ArrayBuffer);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  drain(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Waits for the writes in flight, then closes the worker's connection. */
  async stop(): Promise<void> {
    await this.drain();
    if (this.failed !== undefined && this.failed.message.includes('stopped')) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      this.worker.on('message', (message: { kind: string }) => {
        if (message.kind === 'stopped') {
          clearTimeout(timer);
          this.worker.removeAllListeners('exit');
          void this.worker.terminate().then(() => resolve());
        }
      });
      this.worker.postMessage({ kind: 'stop' });
    });
  }

  /** Hands the chunks of this event-loop turn to the worker in one message. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.outbox.length === 0) return;
    const items = this.outbox;
    const transfer = this.outboxTransfer;
    this.outbox = [];
    this.outboxTransfer = [];
    this.worker.postMessage({ kind: 'write', items }, transfer);
  }

  private settle(): void {
    if (this.pending.size > 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter();
  }
}
