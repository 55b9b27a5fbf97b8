import { Worker } from 'node:worker_threads';
import type { Matrix } from '@rlsa/core';
import type { BackendPreference } from '@rlsa/tfjs-kernels';
import type { ProbeOptions, ProbeResult } from './probe.ts';

/** One probe to train: the data travel to a worker thread (copied, then transferred). */
export interface ProbeJob {
  readonly id: number;
  readonly train: Matrix;
  readonly trainLabels: Int32Array;
  readonly test: Matrix;
  readonly testLabels: Int32Array;
  readonly options: ProbeOptions;
}

export type ProbeReply = { readonly id: number; readonly result: ProbeResult } | { readonly id: number; readonly error: string };

const f32 = (m: Matrix): Matrix => ({ rows: m.rows, cols: m.cols, data: Float32Array.from(m.data) });

/**
 * Trains several probes on `threads` worker threads at once (each with its own tfjs backend, one
 * thread each): the probes of the merged, naive and end-to-end spaces are independent, and the
 * nodes have exited by then, so the machine's cores are free. Results come back in job order.
 * Aborting terminates the workers and rejects.
 */
export async function trainProbes(
  jobs: readonly Omit<ProbeJob, 'id'>[],
  options: { threads: number; backend: BackendPreference; signal?: AbortSignal | undefined; onDone?: (index: number, result: ProbeResult) => void },
): Promise<ProbeResult[]> {
  const results: ProbeResult[] = new Array<ProbeResult>(jobs.length);
  let next = 0;
  const workers: Worker[] = [];
  const runWorker = async (): Promise<void> => {
    const worker = new Worker(new URL('./probe-worker.mjs', import.meta.url), { workerData: { backend: options.backend } });
    workers.push(worker);
    try {
      while (next < jobs.length) {
        const id = next++;
        const job = jobs[id]!;
        const message: ProbeJob = { ...job, id, train: f32(job.train), test: f32(job.test), trainLabels: Int32Array.from(job.trainLabels), testLabels: Int32Array.from(job.testLabels) };
        const reply = await new Promise<ProbeReply>((resolve, reject) => {
          const onMessage = (m: ProbeReply): void => {
            cleanup();
            resolve(m);
          };
          const onError = (e: Error): void => {
            cleanup();
            reject(e);
          };
          const onExit = (code: number): void => {
            cleanup();
            reject(new Error(`probe worker exited (code ${code})`));
          };
          const cleanup = (): void => {
            worker.off('message', onMessage);
            worker.off('error', onError);
            worker.off('exit', onExit);
          };
          worker.on('message', onMessage);
          worker.on('error', onError);
          worker.on('exit', onExit);
          // Fresh copies above: their buffers can move to the worker without a second copy.
          const buffers = [message.train.data.buffer, message.test.data.buffer, message.trainLabels.buffer, message.testLabels.buffer] as ArrayBuffer[];
          worker.postMessage(message, buffers);
        });
        if ('error' in reply) throw new Error(`probe ${id}: ${reply.error}`);
        results[id] = reply.result;
        options.onDone?.(id, reply.result);
      }
    } finally {
      await worker.terminate();
    }
  };
  const onAbort = (): void => {
    for (const w of workers) void w.terminate();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.threads, jobs.length)) }, runWorker));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  return results;
}
