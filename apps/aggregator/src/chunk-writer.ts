import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { AggregatorError } from './errors.ts';
import type { ChunkRow, Durability } from './storage.ts';

/** A committed chunk: the commit's duration, and the payload bytes (lent ones come back here). */
export interface Committed {
  seconds: number;
  /** `row.data`'s bytes: the same view, or, when lent, a view of the same bytes in the returned buffer. */
  data: Uint8Array;
}

/** Where chunks go to be committed; resolves once the chunk committed. */
export interface ChunkSink {
  /**
   * Commits `row`. `lend`: row.data's whole ArrayBuffer may move to the writer (no copy); the
   * caller must not use it until the promise settles, and gets it back in `Committed.data`
   * (on a failure it is lost). Without `lend`, the caller's buffers stay its own.
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
parentPort.on('message', (message) => {
  if (message.kind === 'stop') {
    db.close();
    parentPort.postMessage({ kind: 'stopped' });
    return;
  }
  const row = message.row;
  const started = process.hrtime.bigint();
  try {
    insert.run({ ...row, sampleIds: buffer(row.sampleIds), data: buffer(row.data), rowScales: buffer(row.rowScales), labels: buffer(row.labels), counted: buffer(row.counted) });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // A lent payload buffer goes back to the event loop (moved, not copied) for the merge and reuse.
    if (message.lent) parentPort.postMessage({ kind: 'done', id: message.id, seconds, data: row.data }, [row.data.buffer]);
    else parentPort.postMessage({ kind: 'done', id: message.id, seconds });
  } catch (error) {
    parentPort.postMessage({ kind: 'done', id: message.id, error: String((error && error.message) || error) });
  }
});
`;

interface Pending {
  resolve: (committed: Committed) => void;
  reject: (error: unknown) => void;
  /** The caller's payload when it was copied (not lent). */
  data: Uint8Array | undefined;
}

/**
 * Commits chunks in a worker thread with its own SQLite connection, in the order handed over,
 * so that the event loop decodes, validates and merges the next chunks while one is being
 * written (the commit of a 1 MB chunk is the largest single cost of an upload). A chunk is
 * acknowledged only when its promise resolved, i.e. after the worker's INSERT committed.
 * A storage failure rejects that write and every later one with `internal`.
 */
export class ChunkWriter implements ChunkSink {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failed: AggregatorError | undefined;
  private drainWaiters: (() => void)[] = [];

  constructor(databasePath: string, durability: Durability) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver, path: databasePath, synchronous: durability === 'full' ? 'FULL' : 'NORMAL' },
    });
    this.worker.on('message', (message: { kind: string; id?: number; seconds?: number; data?: Uint8Array; error?: string }) => {
      if (message.kind !== 'done' || message.id === undefined) return;
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error !== undefined) {
        this.failed ??= new AggregatorError('internal', `storing a chunk failed: ${message.error}`);
        waiter?.reject(this.failed);
      } else if (waiter !== undefined) waiter.resolve({ seconds: message.seconds ?? 0, data: message.data ?? waiter.data ?? new Uint8Array(0) });
      this.settle();
    });
    const die = (reason: string): void => {
      this.failed ??= new AggregatorError('internal', `the chunk writer stopped: ${reason}`);
      for (const waiter of this.pending.values()) waiter.reject(this.failed);
      this.pending.clear();
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
      if (lend) {
        // The payload's buffer moves to the worker and back: no copy of the megabyte.
        this.pending.set(id, { resolve, reject, data: undefined });
        const data = new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength);
        this.worker.postMessage({ kind: 'write', id, lent: true, row: { ...row, data } }, [data.buffer as ArrayBuffer]);
        return;
      }
      // The payload is copied once into a fresh buffer that moves to the worker (a structured
      // clone would copy it twice); the caller's buffers stay its own.
      this.pending.set(id, { resolve, reject, data: row.data });
      const data = new Uint8Array(row.data);
      this.worker.postMessage({ kind: 'write', id, lent: false, row: { ...row, data } }, [data.buffer]);
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

  private settle(): void {
    if (this.pending.size > 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter();
  }
}
