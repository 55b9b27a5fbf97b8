import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { CHECKPOINTER_BUSY_TIMEOUT_MS } from './schema.ts';

export interface CheckpointEvent {
  kind: 'checkpoint' | 'error' | 'stopped';
  walBytes?: number;
  ms?: number;
  message?: string;
}

export interface CheckpointThreadData {
  path: string;
  thresholdBytes: number;
  maxBytes: number;
  idleMs: number;
  intervalMs: number;
}

const port = parentPort;
if (port === null) throw new Error('checkpoint-thread.ts runs in a worker thread');
const options = workerData as CheckpointThreadData;
const db = new Database(options.path);
db.pragma(`busy_timeout = ${CHECKPOINTER_BUSY_TIMEOUT_MS}`);

/** The WAL's size, and whether it has not been written for `idleMs`. */
function walState(): { size: number; idle: boolean } {
  try {
    const wal = statSync(`${options.path}-wal`);
    return { size: wal.size, idle: Date.now() - wal.mtimeMs >= options.idleMs };
  } catch {
    return { size: 0, idle: false };
  }
}

let busy = false;
const timer = setInterval(() => {
  if (busy) return;
  busy = true;
  try {
    const { size, idle } = walState();
    // During a burst of uploads the copy (and its fsyncs) would compete with the writer for the
    // disk: wait for a pause, unless the WAL grows past its cap.
    if ((size >= options.thresholdBytes && idle) || size >= options.maxBytes) {
      const started = Date.now();
      const [result] = db.pragma('wal_checkpoint(PASSIVE)') as object[];
      port.postMessage({ kind: 'checkpoint', walBytes: size, ms: Date.now() - started, ...result } satisfies CheckpointEvent);
    }
  } catch (error: unknown) {
    port.postMessage({ kind: 'error', message: error instanceof Error ? error.message : String(error) } satisfies CheckpointEvent);
  } finally {
    busy = false;
  }
}, options.intervalMs);

port.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  port.postMessage({ kind: 'stopped' } satisfies CheckpointEvent);
});
