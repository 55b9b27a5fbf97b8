import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread running the TypeScript module at `entry` (a URL beside the caller's,
 * e.g. `new URL('./chunk-writer-thread.ts', import.meta.url)`): the bootstrap registers tsx and
 * imports it, so the thread's body is type-checked and linted like the rest. `data` reaches the
 * thread as its `workerData` (with `entry` added).
 */
export function startThread(entry: URL, data: Record<string, unknown>): Worker {
  return new Worker(new URL('./worker-bootstrap.mjs', import.meta.url), { workerData: { ...data, entry: entry.href } });
}
