import { readlinkSync, writeFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
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

/**
 * Names the calling thread where Linux lets a thread name itself (top -H, ps -L, the benchmark's
 * CPU per thread) and lowers its scheduling priority by `niceness` (0: unchanged): background work
 * (storing, preparing memory) then yields the cores to the event loop, which answers health checks
 * and every call, whenever both want one. Elsewhere (no /proc) nothing changes.
 */
export function nameThisThread(name: string, niceness = 0): void {
  try {
    writeFileSync('/proc/thread-self/comm', name);
    // /proc/thread-self links to <pid>/task/<tid>: the thread's own id, which setpriority takes on Linux.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (niceness !== 0 && Number.isInteger(tid)) setPriority(tid, Math.min(19, getPriority(tid) + niceness));
  } catch {
    // Not Linux, or no /proc: the thread keeps its default name and priority.
  }
}
