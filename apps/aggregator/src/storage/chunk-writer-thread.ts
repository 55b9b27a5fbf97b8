import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { SQL, WRITER_BUSY_TIMEOUT_MS, applyWriterPragmas } from './schema.ts';
import type { ChunkRow, Durability } from './schema.ts';

/** One chunk handed to the thread: `lent` means its payload's buffer moves back after the commit. */
export interface OutgoingChunk {
  id: number;
  lent: boolean;
  row: ChunkRow;
}

export type WriterRequest = { kind: 'write'; items: OutgoingChunk[] } | { kind: 'stop' };

export type WriterReply =
  | { kind: 'done'; ids: number[]; seconds: number; data: (Uint8Array | null)[] }
  | { kind: 'failed'; ids: number[]; message: string }
  | { kind: 'stopped' };

export interface WriterThreadData {
  path: string;
  durability: Durability;
  maxBatch: number;
}

const port = parentPort;
if (port === null) throw new Error('chunk-writer-thread.ts runs in a worker thread');
const { path, durability, maxBatch } = workerData as WriterThreadData;

const db = new Database(path);
applyWriterPragmas(db, durability);
db.pragma(`busy_timeout = ${WRITER_BUSY_TIMEOUT_MS}`);
const insert = db.prepare(SQL.insertChunk);
/** A structured clone turns Buffers into plain Uint8Arrays: better-sqlite3 binds Buffers. */
const buffer = (u: Uint8Array | null | undefined): Buffer | null => (u === null || u === undefined ? null : Buffer.from(u.buffer, u.byteOffset, u.byteLength));
const insertAll = db.transaction((items: OutgoingChunk[]) => {
  for (const { row } of items) {
    insert.run({ ...row, sampleIds: buffer(row.sampleIds), data: buffer(row.data), rowScales: buffer(row.rowScales), labels: buffer(row.labels), counted: buffer(row.counted) });
  }
});

// Group commit: the chunks that arrived while the previous transaction ran are inserted in one
// transaction (at most maxBatch); each is acknowledged only after that transaction committed.
let queue: OutgoingChunk[] = [];
let scheduled = false;

function commit(): void {
  scheduled = false;
  if (queue.length === 0) return;
  const items = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
  queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
  if (queue.length > 0) schedule();
  const ids = items.map((item) => item.id);
  const started = process.hrtime.bigint();
  try {
    insertAll(items);
  } catch (error: unknown) {
    post({ kind: 'failed', ids, message: error instanceof Error ? error.message : String(error) });
    return;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // Lent payload buffers go back to the event loop (moved, not copied) for the merge and reuse.
  const data = items.map((item) => (item.lent ? item.row.data : null));
  post({ kind: 'done', ids, seconds, data }, items.filter((item) => item.lent).map((item) => item.row.data.buffer as ArrayBuffer));
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(commit);
}

function post(reply: WriterReply, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(reply, transfer);
}

port.on('message', (message: WriterRequest) => {
  if (message.kind === 'stop') {
    while (queue.length > 0) commit();
    db.close();
    post({ kind: 'stopped' });
    return;
  }
  for (const item of message.items) queue.push(item);
  schedule();
});
