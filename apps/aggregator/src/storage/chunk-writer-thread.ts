import Database from 'better-sqlite3';
import { closeSync, fdatasyncSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { nameThisThread } from '../worker-thread.ts';
import { SQL, WAL_CHECKPOINT_BYTES, WRITER_BUSY_TIMEOUT_MS, applyWriterPragmas } from './schema.ts';
import type { ChunkRow, Durability, SegmentRow } from './schema.ts';
import { SegmentAppender } from './segment-appender.ts';
import type { NewSegment, Placement } from './segment-appender.ts';
import type { SharedRef } from './shared-payloads.ts';
import { isStorageFull } from './storage-full.ts';

/** One chunk handed to the thread: with `shared`, its payload is there, in a buffer the thread was given before (`row.data` is empty). */
export interface OutgoingChunk {
  id: number;
  row: ChunkRow;
  shared?: SharedRef;
}

/** Why writes fail: `full` (no space: retry once a probe write succeeds) or `error` (anything else: for good). */
export type WriteFailure = 'full' | 'error';

export type WriterRequest =
  | { kind: 'write'; items: OutgoingChunk[] }
  | { kind: 'share'; id: number; buffer: SharedArrayBuffer }
  | { kind: 'unshare'; id: number }
  | { kind: 'probe'; bytes: number }
  | { kind: 'close-run'; runId: string }
  | { kind: 'stop' };

export type WriterReply =
  | { kind: 'done'; ids: number[]; seconds: number }
  | { kind: 'failed'; ids: number[]; failure: WriteFailure; message: string }
  | { kind: 'probed'; ok: boolean; message: string }
  | { kind: 'checkpoint'; ms: number; walBytes: number }
  | { kind: 'checkpoint-failed'; message: string }
  | { kind: 'run-closed'; runId: string }
  | { kind: 'stopped' };

export interface WriterThreadData {
  dataDir: string;
  databasePath: string;
  durability: Durability;
  maxBatch: number;
}

const port = parentPort;
if (port === null) throw new Error('chunk-writer-thread.ts runs in a worker thread');
const { dataDir, databasePath, durability, maxBatch } = workerData as WriterThreadData;
/**
 * Niceness added to the writer thread: storing yields a core to the event loop when both want one
 * (health checks answer sooner under load), and still gets a third of a contended core.
 */
const WRITER_NICENESS = 5;
nameThisThread('rlsa-writer', WRITER_NICENESS);

const db = new Database(databasePath);
applyWriterPragmas(db, durability);
db.pragma(`busy_timeout = ${WRITER_BUSY_TIMEOUT_MS}`);
const statements = {
  insertChunk: db.prepare(SQL.insertChunk),
  insertSegment: db.prepare(SQL.insertSegment),
  lastSegment: db.prepare(SQL.lastSegment),
  nextSegmentId: db.prepare(SQL.nextSegmentId).pluck(),
};
const appender = new SegmentAppender(dataDir, {
  lastSegment: (runId) => statements.lastSegment.get(runId) as SegmentRow | undefined,
  nextSegmentId: () => statements.nextSegmentId.get() as number,
});
/** The index rows of one batch, and the rows of the segments it started, in one transaction. */
const insertIndex = db.transaction((segments: readonly NewSegment[], items: OutgoingChunk[], placements: Placement[]) => {
  for (const segment of segments) statements.insertSegment.run(segment);
  items.forEach(({ row }, k) => {
    const { runId, nodeId, space, seq, rows, cols, encoding, countedRows } = row;
    statements.insertChunk.run({ runId, nodeId, space, seq, rows, cols, encoding, countedRows, ...placements[k] });
  });
});

// Group commit: the chunks that arrived while the previous batch was written go in one batch (at
// most maxBatch): their records are appended, synced under `full`, and their index rows
// committed in one transaction; each is acknowledged only after that commit. After a failure
// every write is refused with the same reason, so that no later chunk is stored behind a refused
// one (a seq gap): until a probe succeeds (`full`), or for good (`error`).
let queue: OutgoingChunk[] = [];
let scheduled = false;
let refusing: { failure: WriteFailure; message: string } | undefined;
let batchesSinceWalCheck = 0;

function commit(): void {
  scheduled = false;
  if (queue.length === 0) return;
  const items = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
  queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
  if (queue.length > 0) schedule();
  if (refusing !== undefined) {
    post({ kind: 'failed', ids: items.map((item) => item.id), ...refusing });
    return;
  }
  const started = process.hrtime.bigint();
  try {
    const placements = items.map((item) => appender.append(item.row));
    if (durability === 'full') appender.sync();
    insertIndex(appender.newSegments, items, placements);
    appender.settle();
  } catch (error: unknown) {
    appender.rollback();
    refusing = { failure: isStorageFull(error) ? 'full' : 'error', message: error instanceof Error ? error.message : String(error) };
    const refused = [...items, ...queue];
    queue = [];
    post({ kind: 'failed', ids: refused.map((item) => item.id), ...refusing });
    return;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  post({ kind: 'done', ids: items.map((item) => item.id), seconds });
  checkpointWhenLarge();
}

/** Every 64 batches, checkpoints the WAL if it passed WAL_CHECKPOINT_BYTES (it holds index rows only: a short copy). */
function checkpointWhenLarge(): void {
  batchesSinceWalCheck += 1;
  if (batchesSinceWalCheck < 64) return;
  batchesSinceWalCheck = 0;
  let walBytes = 0;
  try {
    walBytes = statSync(`${databasePath}-wal`).size;
  } catch {
    return;
  }
  if (walBytes < WAL_CHECKPOINT_BYTES) return;
  const started = Date.now();
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    post({ kind: 'checkpoint', ms: Date.now() - started, walBytes });
  } catch (error: unknown) {
    post({ kind: 'checkpoint-failed', message: error instanceof Error ? error.message : String(error) });
  }
}

/**
 * Whether `bytes` can be written to the data dir's file system now: a file of that size is
 * written, synced and removed. Clears a `full` refusal when it succeeds.
 */
function probe(bytes: number): void {
  const path = join(dataDir, '.write-probe');
  let ok = false;
  let message = 'ok';
  try {
    const fd = openSync(path, 'w');
    try {
      const block = Buffer.alloc(Math.min(bytes, 1 << 20));
      for (let written = 0; written < bytes; ) written += writeSync(fd, block, 0, Math.min(block.length, bytes - written));
      fdatasyncSync(fd);
      ok = true;
    } finally {
      closeSync(fd);
    }
  } catch (error: unknown) {
    message = error instanceof Error ? error.message : String(error);
  } finally {
    rmSync(path, { force: true });
  }
  if (ok && refusing?.failure === 'full') refusing = undefined;
  post({ kind: 'probed', ok, message });
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(commit);
}

function post(reply: WriterReply, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(reply, transfer);
}

/** The payload buffers the event loop shares with this thread, by id (SharedPayloads). */
const sharedBuffers = new Map<number, SharedArrayBuffer>();

/** The chunk with its payload in place: a view of the shared buffer it names, if it names one. */
function withPayload(item: OutgoingChunk): OutgoingChunk {
  const { shared } = item;
  if (shared === undefined) return item;
  const buffer = sharedBuffers.get(shared.id);
  if (buffer === undefined) throw new Error(`chunk ${item.row.seq}: shared payload buffer ${shared.id} is unknown`);
  return { id: item.id, row: { ...item.row, data: Buffer.from(buffer, shared.byteOffset, shared.byteLength) } };
}

port.on('message', (message: WriterRequest) => {
  if (message.kind === 'write') {
    for (const item of message.items) queue.push(withPayload(item));
    schedule();
  } else if (message.kind === 'share') {
    sharedBuffers.set(message.id, message.buffer);
  } else if (message.kind === 'unshare') {
    sharedBuffers.delete(message.id);
  } else if (message.kind === 'probe') {
    // Writes handed over before the refusal was known are refused first: none may land behind a refused one.
    while (queue.length > 0) commit();
    probe(message.bytes);
  } else if (message.kind === 'close-run') {
    while (queue.length > 0) commit();
    appender.closeRun(message.runId);
    post({ kind: 'run-closed', runId: message.runId });
  } else {
    while (queue.length > 0) commit();
    appender.closeAll();
    db.close();
    post({ kind: 'stopped' });
  }
});
