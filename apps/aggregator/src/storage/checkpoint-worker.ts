import type { Worker } from 'node:worker_threads';
import { startThread } from '../worker-thread.ts';
import type { CheckpointEvent, CheckpointThreadData } from './checkpoint-thread.ts';

export type { CheckpointEvent } from './checkpoint-thread.ts';

/** WAL size from which the worker checkpoints (copies the WAL into the database file) once writes pause. */
export const CHECKPOINT_WAL_BYTES = 64 * 1024 * 1024;
/** WAL size at which it checkpoints even while chunks keep arriving (bounds the WAL's disk use). */
export const CHECKPOINT_WAL_MAX_BYTES = 1024 * 1024 * 1024;
/** Writes pause when the WAL file has not been written for this long. */
const CHECKPOINT_IDLE_MS = 1000;
const CHECKPOINT_INTERVAL_MS = 500;

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
    const data: CheckpointThreadData = { path: databasePath, thresholdBytes, maxBytes: CHECKPOINT_WAL_MAX_BYTES, idleMs: CHECKPOINT_IDLE_MS, intervalMs: CHECKPOINT_INTERVAL_MS };
    this.worker = startThread(new URL('./checkpoint-thread.ts', import.meta.url), { ...data });
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
