import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** WAL size from which the worker checkpoints (copies the WAL into the database file) once writes pause. */
export const CHECKPOINT_WAL_BYTES = 64 * 1024 * 1024;
/** WAL size at which it checkpoints even while chunks keep arriving (bounds the WAL's disk use). */
export const CHECKPOINT_WAL_MAX_BYTES = 1024 * 1024 * 1024;
/** Writes pause when the WAL file has not been written for this long. */
const CHECKPOINT_IDLE_MS = 1000;
const CHECKPOINT_INTERVAL_MS = 500;

// Plain JavaScript, evaluated as a CommonJS worker: the worker has no TypeScript loader.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { statSync } = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
let busy = false;
const timer = setInterval(() => {
  if (busy) return;
  busy = true;
  try {
    let size = 0;
    let idle = false;
    try {
      const wal = statSync(workerData.path + '-wal');
      size = wal.size;
      idle = Date.now() - wal.mtimeMs >= workerData.idleMs;
    } catch { size = 0; }
    // During a burst of uploads the copy (and its fsyncs) would compete with the writer for the
    // disk: wait for a pause, unless the WAL grows past its cap.
    if ((size >= workerData.thresholdBytes && idle) || size >= workerData.maxBytes) {
      const started = Date.now();
      const [result] = db.pragma('wal_checkpoint(PASSIVE)');
      parentPort.postMessage({ kind: 'checkpoint', walBytes: size, ms: Date.now() - started, ...result });
    }
  } catch (error) {
    parentPort.postMessage({ kind: 'error', message: String(error && error.message || error) });
  } finally {
    busy = false;
  }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort.postMessage({ kind: 'stopped' });
  }
});
`;

export interface CheckpointEvent {
  kind: 'checkpoint' | 'error' | 'stopped';
  walBytes?: number;
  ms?: number;
  message?: string;
}

/**
 * Checkpoints the WAL from a worker thread with its own SQLite connection (PASSIVE: it never
 * blocks the writer), so that ingestion does not stall while hundreds of MB are copied into
 * the database file and fsynced: from 64 MB of WAL once writes pause for a second, or at 1 GB
 * regardless. The connections keep an automatic checkpoint at 2 GB as a fallback should the
 * worker fail.
 */
export class CheckpointWorker {
  private readonly worker: Worker;

  constructor(databasePath: string, onEvent: (event: CheckpointEvent) => void, thresholdBytes = CHECKPOINT_WAL_BYTES) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver, path: databasePath, thresholdBytes, maxBytes: CHECKPOINT_WAL_MAX_BYTES, idleMs: CHECKPOINT_IDLE_MS, intervalMs: CHECKPOINT_INTERVAL_MS },
    });
    this.worker.on('message', (event: CheckpointEvent) => onEvent(event));
    this.worker.on('error', (error: Error) => onEvent({ kind: 'error', message: error.message }));
    this.worker.unref();
  }

  /** Stops the timer and closes the worker's connection. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      this.worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.worker.on('message', (event: CheckpointEvent) => {
        if (event.kind === 'stopped') void this.worker.terminate();
      });
      this.worker.postMessage('stop');
    });
  }
}
